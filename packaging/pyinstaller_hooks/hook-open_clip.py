"""open_clip: its architecture configs and the BPE vocabulary are files next to its modules.

The multilingual preset builds its text tower through transformers by name, so that model's
modules are named here (transformers imports them lazily, by string). Sources are kept beside
the bytecode because TorchScript reads a module's source when it compiles it.
"""

from PyInstaller.utils.hooks import collect_data_files, collect_submodules, copy_metadata

datas = collect_data_files("open_clip") + copy_metadata("open_clip_torch")
hiddenimports = [
    *collect_submodules("open_clip"),
    *collect_submodules("transformers.models.xlm_roberta"),
    *collect_submodules("transformers.models.roberta"),
]
module_collection_mode = "pyz+py"
