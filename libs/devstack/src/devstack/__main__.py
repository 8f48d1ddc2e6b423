"""`python -m devstack run`: the whole platform on the embedded defaults, until Ctrl-C."""

import argparse
import signal
import sys
import time
from types import FrameType

from devstack import demo
from devstack.config import StackConfig
from devstack.stack import Stack, StackError


def run(config: StackConfig) -> int:
    stack = Stack(config)
    started = time.monotonic()
    stopping = False

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    marker = config.data_dir / ".demo-loaded"
    try:
        demo.ensure_demo_principals(config.data_dir / "gateway" / "principals.json")
        stack.start()
        ready_after = time.monotonic() - started
        if config.demo and not marker.exists():
            print("Loading the demo data set (first start only)…", flush=True)
            lines = demo.seed(config.gateway_url)
            marker.write_text("\n".join(lines) + "\n")
            print("Loaded the demo data set:\n" + "\n".join(f"  - {line}" for line in lines), flush=True)
        print(banner(config, ready_after), flush=True)
        while not stopping:
            stack.supervise(report=lambda line: print(line, flush=True))
            time.sleep(0.5)
        return 0
    except StackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        print("Stopping every process…", flush=True)
        stack.stop()


def banner(config: StackConfig, ready_after: float) -> str:
    users = "\n".join(
        f"    {name:<10} password {password:<16} {demo.DEMO_USER_NAMES[name]}" for name, password in demo.DEMO_USERS.items()
    )
    clients = "\n".join(f"    {name}  secret {secret}" for name, secret in demo.DEMO_CLIENTS.items())
    return f"""
CadreCare is up (ready in {ready_after:.1f}s); data in {config.data_dir}

  Gateway     {config.gateway_url}
  Dashboard   {config.gateway_url}/dashboard   (sign in as a demo user below)
  API docs    {config.gateway_url}/docs
  AsyncAPI    {config.gateway_url}/asyncapi.json

  Demo users (OAuth2 password grant at {config.gateway_url}/api/v1/auth/token):
{users}
  Demo HIS client (client-credentials grant):
{clients}

  Try:  TOKEN=$(curl -s -d grant_type=password -d username=lamdong -d password=lamdong-demo \\
               {config.gateway_url}/api/v1/auth/token | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
        curl -s -H "Authorization: Bearer $TOKEN" '{config.gateway_url}/api/v1/reporting/cadre-counts?unit=VN.68'

Press Ctrl-C to stop every process.
"""


def main() -> int:
    parser = argparse.ArgumentParser(prog="cadrecare")
    parser.add_argument("command", choices=["run"], help="run: start the whole platform on the embedded defaults")
    parser.parse_args()
    return run(StackConfig())


if __name__ == "__main__":
    raise SystemExit(main())
