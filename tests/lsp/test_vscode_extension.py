"""The VS Code extension (editors/vscode) compiles with TypeScript and packages into a .vsix with @vscode/vsce,
holding what VS Code needs to run it: its manifest, the compiled code and vscode-languageclient."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from tests.lsp.vscode import build_vsix


def test_the_extension_compiles_and_packages(tmp_path: Path) -> None:
    vsix = build_vsix(tmp_path)
    with zipfile.ZipFile(vsix) as archive:
        names = set(archive.namelist())
        manifest = json.loads(archive.read("extension/package.json"))
    assert {"extension/out/extension.js", "extension/package.json", "extension.vsixmanifest",
            "extension/node_modules/vscode-languageclient/package.json"} <= names
    assert not any(name.startswith("extension/src/") for name in names)
    assert manifest["activationEvents"] == ["onLanguage:python"]
    assert {c["command"] for c in manifest["contributes"]["commands"]} == {"selfdebug.setApiKey",
                                                                         "selfdebug.clearApiKey", "selfdebug.cancelJob"}
    assert "selfdebug.serverUrl" in manifest["contributes"]["configuration"]["properties"]
