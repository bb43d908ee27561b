"""One pydantic error, one readable line: the offending value is shown once."""

from __future__ import annotations

import pydantic

from hedgekeeper.config.toml import describe


class _Model(pydantic.BaseModel):
    interval: str


def test_a_message_that_already_names_the_value_is_not_repeated() -> None:
    error = {"loc": ("interval",), "type": "value_error", "input": "1q",
             "msg": "Value error, interval must look like 1h or 30m; got '1q'"}
    line = describe(error, {("interval",): 3}, "demo.toml", _Model)
    assert line == "demo.toml line 3: interval: interval must look like 1h or 30m; got '1q'"


def test_a_builtin_message_gets_the_value() -> None:
    error = {"loc": ("interval",), "type": "string_type", "input": 5,
             "msg": "Input should be a valid string"}
    line = describe(error, {("interval",): 3}, "demo.toml", _Model)
    assert line == "demo.toml line 3: interval: Input should be a valid string (got 5)"
