"""Runs scim2-tester (PyPI) against a live 1Stop server's SCIM service.

    python scripts/scim2_check.py BASE_URL TOKEN

BASE_URL is the SCIM base (http://127.0.0.1:8080/scim/v2), TOKEN a SCIM token. Prints one line
per check ("STATUS | title | reason") and exits 1 when any check ends in ERROR or CRITICAL (a
MUST of RFC 7643/7644 broken), 0 otherwise. scim2-tester reads ServiceProviderConfig,
ResourceTypes and Schemas first and checks only what they declare (Users, no Groups, no bulk,
no sort), so every check it runs applies.
"""

import sys

import httpx2
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import Status, check_server

FAILING = {Status.ERROR, Status.CRITICAL}


def main() -> int:
    base_url, token = sys.argv[1], sys.argv[2]
    client = httpx2.Client(
        base_url=base_url.rstrip("/") + "/",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    scim = SyncSCIMClient(client)
    results = check_server(scim)
    failed = 0
    for result in results:
        failed += result.status in FAILING
        reason = (result.reason or "").replace("\n", " ")
        print(f"{result.status.name} | {result.title} | {reason}")
    print(f"scim2-tester: {len(results)} checks, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
