"""The generated protocol files are current, and the documentation tells the truth."""

from vcc.devtools import protocol_docs
from vcc_protocol import schema
from vcc_protocol.commands import COMMAND_TYPES
from vcc_protocol.errors import ERROR_CODES


def test_the_json_schema_file_is_current() -> None:
    assert schema.SCHEMA_FILE.read_text(encoding="utf-8") == schema.render(), "run: python -m vcc_protocol.schema"


def test_the_protocol_page_is_current() -> None:
    assert protocol_docs.DOC.read_text(encoding="utf-8") == protocol_docs.render(), "run: python -m vcc.devtools.protocol_docs"


def test_every_command_is_documented_with_codes_that_exist() -> None:
    page = protocol_docs.DOC.read_text(encoding="utf-8")
    for kind in COMMAND_TYPES:
        assert f"### `{kind.__struct_config__.tag}`" in page
        codes, events = protocol_docs.command_facts(kind)
        assert set(codes) <= set(ERROR_CODES)
        if kind.__struct_config__.tag != "tick":
            assert events, f"{kind.__name__} documents no event"
