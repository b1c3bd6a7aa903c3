"""Run every benchmark and print its table (``make bench``). The province-scale life-circle bench
(``lifecircle_province.py``: 5 million nodes, several minutes and 3 GB) is run on its own."""

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
for script in ("ledger_import.py", "audit_verify.py", "lights_recompute.py", "bulletin_draft.py",
               "assessment_engine.py", "assessment_round.py", "weighting.py", "joint_merge.py", "joint_matcher.py",
               "lifecircle_engine.py", "lifecircle_peers.py", "lifecircle_siting.py", "lifecircle_regions.py",
               "http_load.py"):
    subprocess.run([sys.executable, str(HERE / script)], check=True)
    print()
