"""Ansible's answer to `ansible all -i INVENTORY --list-hosts -l PATTERN`
for many patterns in one process: the same calls the ansible CLI makes
(InventoryManager, CLI.get_host_list), without starting Python once per
pattern. Reads a JSON list of patterns on stdin; writes
{pattern: {"hosts": [...], "error": "...", "warnings": [...]}}."""
import json
import sys

from ansible.cli import CLI
from ansible.errors import AnsibleError
from ansible.inventory.manager import InventoryManager
from ansible.parsing.dataloader import DataLoader
from ansible.utils.display import Display

warnings = []
Display.warning = lambda self, msg, formatted=False: warnings.append(msg)

inventory = InventoryManager(loader=DataLoader(), sources=[sys.argv[1]])
out = {}
for pattern in json.load(sys.stdin):
    warnings.clear()
    inventory.subset(None)  # each pattern on its own, as in a new process
    inventory.clear_caches()
    try:
        hosts = CLI.get_host_list(inventory, pattern, "all")
        out[pattern] = {"hosts": sorted(h.name for h in hosts)}
    except AnsibleError as e:
        out[pattern] = {"error": str(e)}
    out[pattern]["warnings"] = list(warnings)
json.dump(out, sys.stdout)
