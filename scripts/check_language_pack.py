"""Check one language's copy pack: its phrasebook, reviewed fallback copy and guardrail rules.

Inputs : layers/runtime/nudge/copy/languages/<lang>/phrasebook.json, seed_copy.json, rules.json
Outputs: a report on stdout; exit status 1 when any problem is found.

What it checks (the runtime applies the same rules, nudge.copy.guardrails with the language's rules):
  every expanded phrasebook line and every fallback field passes the language's guardrails (slots, digits
  in every script, currency and number words, banned phrases, campaign terms, punctuation, length);
  every campaign has lines for every tone, for a customer with no facts and for one with all of them
  (subject, preheader, open, body, close); fallback copy has variants for every campaign, tone and field.

Run: PYTHONPATH=layers/runtime .venv/bin/python scripts/check_language_pack.py fr
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "layers" / "runtime"))  # scripts run from a checkout; the runtime is not installed

from nudge.copy.languages import LANGUAGE_PACKS, check_pack  # noqa: E402
from nudge.errors import ConfigError  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("languages", nargs="*", default=list(LANGUAGE_PACKS), help=f"default: {' '.join(LANGUAGE_PACKS)}")
    args = parser.parse_args(argv)
    failed = False
    for language in args.languages:
        try:
            report = check_pack(language)
        except ConfigError as exc:  # a missing or malformed file: nothing else can be checked
            print(f"# {language}: PROBLEM {exc}")
            failed = True
            continue
        print(f"# {language}: {report['lines']} phrasebook lines, {report['fallback_fields']} fallback fields")
        print("  lines per campaign and role: " + json.dumps(report["by_campaign"], sort_keys=True))
        counts = Counter(p.split(":")[0] for p in report["problems"])
        for problem in report["problems"][:60]:
            print("  PROBLEM " + problem)
        if report["problems"]:
            failed = True
            print(f"  {len(report['problems'])} problems ({dict(counts)})")
        else:
            print("  ok")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
