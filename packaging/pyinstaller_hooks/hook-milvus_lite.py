"""milvus-lite runs a bundled server executable and its libraries from its package folder."""

from PyInstaller.utils.hooks import collect_data_files, collect_dynamic_libs, copy_metadata

datas = collect_data_files("milvus_lite", include_py_files=False) + copy_metadata("milvus_lite")
binaries = collect_dynamic_libs("milvus_lite")
