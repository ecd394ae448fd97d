"""Erase one customer: their profile, send and holdout records, and every generated email.

Inputs: --customer-id, and the stack's NUDGE_PROFILE_TABLE, NUDGE_OUTPUT_BUCKET and keys
(NUDGE_SECRET_ARN, or NUDGE_PSEUDONYM_KEY) from the environment.
Outputs: counts of deleted items and object versions, printed as JSON (no personal data).
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass


@dataclass
class DeleteConfig:
    customer_id: str


def main(config: DeleteConfig) -> dict:
    from nudge.config import Settings
    from nudge.service import erase_customer

    result = erase_customer(config.customer_id, settings=Settings.from_env())
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customer-id", required=True)
    main(DeleteConfig(parser.parse_args().customer_id))
