"""Canary secrets never reach an output: logs, stdout/stderr, the databases, HTTP answers.

Planted: the API bearer token (environment), the venue API key (a secret file named in the
config), and a wrong venue key on a failing run. The keeper runs as a real process against a
real ``paper-venue serve`` (which requires the key), serves its API, is asked for status,
metrics, a kill with a wrong and a right token, a resume, then stopped; a second run with a
wrong key fails. Every byte those processes wrote, both SQLite databases (dumped) and every
HTTP response (headers and body) are scanned for the canaries.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from keeper_harness import wait_for

from hedgekeeper.keeper.config import ConfigError, parse_config

API_TOKEN = "canary-api-token-7c1e9b40d2"
VENUE_KEY = "canary-venue-key-3a8f2d61e5"
WRONG_KEY = "canary-wrong-key-91b7c0aa34"
CANARIES = (API_TOKEN, VENUE_KEY, WRONG_KEY)

VENUE_CONFIG = """
[venue]
[venue.instruments.BTC_USDC-PERPETUAL]
initial_price = 87395.5
volatility = 0.05
tick_size = "1"
lot_size = "0.001"
level_size = "0.5"
"""

KEEPER_CONFIG = """
name = "canary"
db = "sqlite:///{folder}/journal.sqlite"

[book]
positions = [
  {{ instrument = "BTC-27MAR26-88000-C", quantity = -5 }},
  {{ instrument = "BTC-27MAR26-88000-P", quantity = -5 }},
]

[feed]
bridge_ticks = 200

[hedge]
instruments = [{{ name = "BTC_USDC-PERPETUAL", max_order = 5 }}]
policy = {{ halfwidth = 0.05 }}

[rails]
fill_wait_s = 0.5
max_venue_errors = 3

[venue]
url = "{url}"
api_key = {{ file = "{key_file}" }}
timeout_s = 5

[api]
enabled = true
port = 0

[log]
file = "{folder}/keeper.log"
level = "debug"
"""


def _python(args: list[str], env: dict[str, str], folder: Path,
            name: str) -> tuple[subprocess.Popen[bytes], Path, Path]:
    out, err = folder / f"{name}.out", folder / f"{name}.err"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen([sys.executable, "-m", "hedgekeeper", *args], env=env,
                                   cwd=folder, stdout=stdout, stderr=stderr)
    return process, out, err


def _dump(path: Path) -> str:
    connection = sqlite3.connect(path)
    try:
        return "\n".join(connection.iterdump())
    finally:
        connection.close()


def test_inline_secrets_are_refused_without_being_echoed() -> None:
    document = {"book": {"positions": [{"instrument": "BTC-27MAR26-88000-C", "quantity": 1}]},
                "venue": {"api_key": VENUE_KEY}}
    with pytest.raises(ConfigError) as error:
        parse_config(document)
    assert "venue.api_key" in str(error.value)
    assert VENUE_KEY not in str(error.value)


def test_canary_secrets_reach_no_output(tmp_path: Path) -> None:
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("HEDGEKEEPER_")}
    (tmp_path / "venue.toml").write_text(VENUE_CONFIG, encoding="utf-8")
    key_file = tmp_path / "venue-key.txt"
    key_file.write_text(VENUE_KEY + "\n", encoding="utf-8")
    outputs: list[str] = []
    processes: list[subprocess.Popen[bytes]] = []
    try:
        venue, venue_out, venue_err = _python(
            ["paper-venue", "serve", "--state", str(tmp_path / "venue.sqlite"), "--port", "0",
             "--config", str(tmp_path / "venue.toml"), "--api-key-env", "PAPER_VENUE_KEY"],
            {**base_env, "PAPER_VENUE_KEY": VENUE_KEY}, tmp_path, "venue")
        processes.append(venue)
        wait_for(venue_out, '"listening"', timeout=120)
        url = json.loads(venue_out.read_text().splitlines()[0])["url"]
        config = tmp_path / "keeper.toml"
        config.write_text(KEEPER_CONFIG.format(folder=tmp_path, url=url, key_file=key_file),
                          encoding="utf-8")
        keeper, keeper_out, keeper_err = _python(
            ["run", str(config), "--speed", "200", "--duration", "120s"],
            {**base_env, "HEDGEKEEPER_API_TOKEN": API_TOKEN}, tmp_path, "keeper")
        processes.append(keeper)
        wait_for(keeper_err, '"api_listening"', timeout=120)
        line = next(x for x in keeper_err.read_text().splitlines() if "api_listening" in x)
        api = f"http://127.0.0.1:{json.loads(line)['port']}"
        wait_for(keeper_err, '"fill"', timeout=120)
        answers = []
        with httpx.Client(base_url=api, timeout=10) as client:
            answers.append(client.get("/status"))
            answers.append(client.get("/metrics"))
            answers.append(client.post("/kill", headers={"Authorization": "Bearer guess"}))
            answers.append(client.post("/kill", headers={"Authorization": f"Bearer {WRONG_KEY}"}))
            answers.append(client.post("/kill", json={"reason": "canary test"},
                                       headers={"Authorization": f"Bearer {API_TOKEN}"}))
            answers.append(client.post("/resume",
                                       headers={"Authorization": f"Bearer {API_TOKEN}"}))
            answers.append(client.get("/nothing-here"))
            answers.append(client.get("/status"))
        codes = [a.status_code for a in answers]
        assert codes == [200, 200, 401, 401, 200, 200, 404, 200]
        assert answers[4].json()["kill_switch"] is True
        assert answers[5].json()["kill_switch"] is False
        assert "hedgekeeper_decisions_total" in answers[1].text
        assert json.loads(answers[0].text)["reconciled"] is True
        outputs += [f"{a.status_code} {dict(a.headers)} {a.text}" for a in answers]
        keeper.send_signal(signal.SIGTERM)
        assert keeper.wait(timeout=60) == 0
        # A run with a wrong venue key fails, saying so without the key.
        key_file.write_text(WRONG_KEY, encoding="utf-8")
        failing, failing_out, failing_err = _python(
            ["run", str(config), "--speed", "200", "--duration", "60s"],
            {**base_env, "HEDGEKEEPER_API_TOKEN": API_TOKEN}, tmp_path, "failing")
        processes.append(failing)
        assert failing.wait(timeout=120) != 0
        assert "refused the API key" in failing_err.read_text()
        venue.send_signal(signal.SIGTERM)
        venue.wait(timeout=60)
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    for path in (venue_out, venue_err, keeper_out, keeper_err, failing_out, failing_err,
                 tmp_path / "keeper.log"):
        outputs.append(path.read_text(encoding="utf-8", errors="replace"))
    outputs.append(_dump(tmp_path / "journal.sqlite"))
    outputs.append(_dump(tmp_path / "venue.sqlite"))
    assert "kill switch" in outputs[-2] or "canary test" in outputs[-2]
    assert len(outputs[-3]) > 1000  # the log file really was written
    for text in outputs:
        for canary in CANARIES:
            assert canary not in text, f"secret {canary[:12]}... leaked: {text[:200]}"
    time.sleep(0)
