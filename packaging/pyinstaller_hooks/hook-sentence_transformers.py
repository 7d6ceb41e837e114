"""sentence-transformers loads its building blocks and the transformers model classes by name.

A saved model says which classes make it up (modules.json, config.json); those are imported by
string at load time, which static analysis cannot see. All-MiniLM-L6-v2 is a BERT model;
transformers' automatic lookup also reads every model's configuration module.
"""

from PyInstaller.utils.hooks import collect_submodules, copy_metadata

hiddenimports = [
    *collect_submodules("sentence_transformers", filter=lambda name: ".evaluation" not in name),
    *collect_submodules("transformers.models.bert"),
    *collect_submodules(
        "transformers.models",
        filter=lambda name: (
            name.count(".") == 3
            and name.rsplit(".", 1)[1].startswith(("configuration_", "tokenization_auto"))
        ),
    ),
    *collect_submodules("transformers.models.auto"),
]
datas = copy_metadata("sentence_transformers")
module_collection_mode = "pyz+py"
