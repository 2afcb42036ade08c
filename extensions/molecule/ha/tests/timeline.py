"""What side_effect.yml recorded (lab_harness failover --json), and the lab's literal addresses."""

import json
import os
from pathlib import Path

TIMELINE = json.loads(Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "failover.json").read_text())
REPORT = TIMELINE["report"]
DIRECTORS = ("director1", "director2")
VICTIM = TIMELINE["victim"]
SURVIVOR = [d for d in DIRECTORS if d != VICTIM][0]
# the lab inventory's addresses (inventories/ha_lab)
VIP = {"ha_dr": "192.168.4.253", "ha_nat": "192.168.2.253"}[TIMELINE["scenario"]]
REAL_SERVERS = ("192.168.4.52:80", "192.168.4.53:80")
