"""A run fails before training when its adapter could not be converted or served."""

from __future__ import annotations

from pathlib import Path

import pytest
from steward_trainer.errors import AdapterConverterMissing, UnservableAdapterName
from steward_trainer.gguf_adapter import check_convertible


def test_a_missing_converter_names_the_make_target_that_installs_it(tmp_path: Path) -> None:
    converter = tmp_path / "convert_lora_to_gguf.py"

    with pytest.raises(AdapterConverterMissing, match="make trainer-tools") as missing:
        check_convertible("run-1.candidate", converter)
    assert str(converter) in str(missing.value)


@pytest.mark.parametrize("name", ["tenant/run-1.candidate", "run:1.candidate", ".hidden"])
def test_a_name_that_cannot_be_an_adapter_file_is_refused(tmp_path: Path, name: str) -> None:
    converter = tmp_path / "convert_lora_to_gguf.py"
    converter.write_text("")

    with pytest.raises(UnservableAdapterName, match="cannot name a GGUF adapter file"):
        check_convertible(name, converter)
    check_convertible("run-1.candidate", converter)
