"""Erases a person or an account on request (GDPR Art. 17) from the warehouse, the raw layer and the serving file,
and keeps it out of later loads.

python -m orchestration.erase --email jane.doe@example.com [--performed-by NAME] [--reference CASE-123]
python -m orchestration.erase --account ACC-00042
python -m orchestration.erase --email -        # reads the address from standard input: not in shell history

It refuses to run while a refresh holds the warehouse. What it does: orchestration/defs/privacy/erasure.py;
what is stored where and why: docs/record_of_processing.md.
"""

from __future__ import annotations

import argparse
import getpass
import sys

from orchestration.defs.privacy.keys import ACCOUNT, EMAIL, PseudonymisationKeyError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--email", help="the person's e-mail address ('-': read it from standard input)")
    which.add_argument("--account", help="the account id ('-': read it from standard input)")
    parser.add_argument("--performed-by", default="", help="who carries out the request (default: your user name)")
    parser.add_argument("--reference", default="", help="case or ticket number of the request (not the identifier)")
    args = parser.parse_args(argv)
    kind, identifier = (EMAIL, args.email) if args.email is not None else (ACCOUNT, args.account)
    if identifier == "-":
        identifier = sys.stdin.readline()

    from orchestration.defs.privacy.erasure import ErasureRefused, ErasureRequest, WarehouseFiles, erase
    from orchestration.settings import load_settings

    settings = load_settings()
    request = ErasureRequest(
        kind=kind,
        identifier=identifier,
        performed_by=args.performed_by or getpass.getuser(),
        reference=args.reference,
        started_from="command line",
    )
    print(f"Erasing an {'e-mail address' if kind == EMAIL else 'account'} from {settings.warehouse_path} ...")
    try:
        report = erase(request, WarehouseFiles.from_settings(settings), notify=lambda message: print(f"  {message}"))
    except (ErasureRefused, PseudonymisationKeyError) as error:
        print(f"Not erased: {error}", file=sys.stderr)
        return 1
    print(report.render())
    return 0


if __name__ == "__main__":
    sys.exit(main())
