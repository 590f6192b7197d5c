"""Driven by python.test.ts: calls a bonsai reward server through examples/python and prints what came back as JSON."""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "examples", "python"))
from bonsai_client import BonsaiRewardClient, BonsaiRewardError  # noqa: E402
from trl_reward import bonsai_reward  # noqa: E402

url, texts = sys.argv[1], json.loads(sys.argv[2])
client = BonsaiRewardClient(url, chunk_size=3)
prompts = [t["prompt"] for t in texts]
completions = [t["completion"] for t in texts]
answers = [t.get("answer") for t in texts]
out = {
    "health": client.health()["status"],
    "info_rewards": [r["name"] for r in client.info()["rewards"]],
    "openrlhf": client.get_reward([p + c for p, c in zip(prompts, completions)], prompts=prompts, labels=answers)["rewards"],
    "rewards": client.rewards(completions, prompts=prompts, answers=answers),
    "trl_total": bonsai_reward(url)(prompts, completions, answer=answers),
    "trl_probe": bonsai_reward(url, reward="probe")(prompts, completions, answer=answers),
    "trl_name": bonsai_reward(url, reward="probe").__name__,
}
try:
    client.rewards([])
except BonsaiRewardError as e:
    out["error"] = [e.status, e.message]
else:
    out["error"] = None
print(json.dumps(out))
