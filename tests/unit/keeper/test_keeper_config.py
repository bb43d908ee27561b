"""Keeper config: frozen, typed, unknown keys refused naming the field; secrets never inline."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from hedgekeeper.keeper.config import ConfigError, KeeperConfig, load_config, parse_config

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "paper.toml"
BOOK = {"positions": [{"instrument": "BTC-27MAR26-88000-C", "quantity": -1}]}


def test_the_shipped_paper_example_is_valid() -> None:
    config = load_config(EXAMPLE)
    assert config.venue.url is None
    assert [h.name for h in config.hedge.instruments] == ["BTC_USDC-PERPETUAL"]
    assert config.api.host == "127.0.0.1"
    assert len(config.book.positions) == 2


def test_rails_are_on_by_default() -> None:
    rails = parse_config({"book": BOOK}).rails
    assert rails.max_order_notional_usd > 0
    assert rails.max_orders_per_minute > 0
    assert rails.max_daily_turnover_usd > 0
    assert rails.max_consecutive_same_side > 0
    assert rails.max_data_age_s > 0
    assert 0 < rails.max_price_jump < 1
    assert 0 < rails.max_source_disagreement < 1
    assert rails.max_venue_errors > 0


@pytest.mark.parametrize(("document", "named"), [
    ({"book": BOOK, "rails": {"max_orders_per_minut": 3}}, "rails.max_orders_per_minut"),
    ({"book": BOOK, "rails": {"max_orders_per_minute": 0}}, "rails.max_orders_per_minute"),
    ({"book": BOOK, "rails": {"max_price_jump": 1.5}}, "rails.max_price_jump"),
    ({"book": BOOK, "feed": {"kind": "tape"}}, "feed.kind"),
    ({"book": BOOK, "feed": {"kind": "bars"}}, "feed"),
    ({"book": {"positions": []}}, "book.positions"),
    ({"book": {"positions": [{"instrument": "X", "quantity": "a"}]}},
     "book.positions[0].quantity"),
    ({"book": BOOK, "hedge": {"instruments": []}}, "hedge.instruments"),
    ({"book": BOOK, "venue": {"faults": "explode=1"}}, "venue.faults"),
    ({"book": BOOK, "venue": {"api_key": "sk-live-123"}}, "venue.api_key"),
    ({"book": BOOK, "api": {"token": "abc"}}, "api.token"),
    ({}, "book"),
])
def test_bad_fields_are_named(document: dict[str, object], named: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_config(document, source="t.toml")
    assert f"t.toml: {named}" in str(error.value) or f"; {named}" in str(error.value)


def test_config_is_frozen() -> None:
    config = parse_config({"book": BOOK})
    with pytest.raises(ValidationError):
        config.name = "other"  # type: ignore[misc]


def test_secrets_come_from_env_or_file_and_never_print(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "key.txt").write_text("canary-file-secret\n", encoding="utf-8")
    config = parse_config({"book": BOOK, "venue": {"api_key": {"file": "key.txt"}}})
    assert config.venue.api_key is not None
    secret = config.venue.api_key.load(tmp_path)
    assert secret is not None
    assert secret.get_secret_value() == "canary-file-secret"
    assert "canary" not in repr(secret)
    assert "canary" not in str(config)
    monkeypatch.setenv("HK_TEST_SECRET", "canary-env")
    env = parse_config({"book": BOOK, "venue": {"api_key": {"env": "HK_TEST_SECRET"}}})
    assert env.venue.api_key is not None
    loaded = env.venue.api_key.load(tmp_path)
    assert loaded is not None
    assert loaded.get_secret_value() == "canary-env"
    with pytest.raises(ConfigError, match="give exactly one"):
        parse_config({"book": BOOK, "venue": {"api_key": {"env": "A", "file": "b"}}})
    missing = parse_config({"book": BOOK, "venue": {"api_key": {"file": "nope.txt"}}})
    assert missing.venue.api_key is not None
    with pytest.raises(ConfigError, match="cannot be read"):
        missing.venue.api_key.load(tmp_path)


def test_load_config_reports_bad_toml_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot be read"):
        load_config(tmp_path / "absent.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("name = [", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(bad)


def test_model_rejects_unknown_keys_directly() -> None:
    with pytest.raises(ValidationError, match="extra"):
        KeeperConfig.model_validate({"book": BOOK, "surprise": 1})
