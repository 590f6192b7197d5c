"""bonsai rewards as TRL reward functions, standard library only (urllib).

    from trl import GRPOConfig, GRPOTrainer
    from trl_reward import bonsai_reward

    trainer = GRPOTrainer(
        model=model,
        reward_funcs=[bonsai_reward()],                           # the recipe's weighted total
        # or one TRL reward per bonsai reward, so TRL logs each as rewards/<name>/mean:
        # reward_funcs=[bonsai_reward(reward="probe"), bonsai_reward(reward="correct")],
        args=GRPOConfig(...), train_dataset=dataset)

Start the server first: `bonsai serve-reward recipe.yaml` (token: $BONSAI_REWARD_TOKEN).
A dataset column named `answer_column` (default "answer") is sent as each completion's
reference answer (for exact_match rewards). Conversational prompts/completions (lists of
{"role", "content"} messages) are sent as their contents joined by newlines.
"""
import json
import os
import urllib.error
import urllib.request


def bonsai_reward(url="http://127.0.0.1:8470", token=None, reward=None, answer_column="answer", timeout=180.0):
    """A TRL reward function `fn(prompts, completions, **kwargs) -> list[float]` backed by bonsai.

    reward=None gives the recipe's weighted total; reward="<name>" gives that reward's raw score.
    """
    token = token if token is not None else os.environ.get("BONSAI_REWARD_TOKEN")
    endpoint = url.rstrip("/") + "/v1/rewards"

    def reward_fn(prompts, completions, **kwargs):
        body = {"completions": [_text(c) for c in completions], "prompts": [_text(p) for p in prompts], "per_token": False}
        answers = kwargs.get(answer_column)
        if answers is not None:
            body["answers"] = [a if a is None or isinstance(a, (str, int, float)) else str(a) for a in answers]
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        req = urllib.request.Request(endpoint, data=json.dumps(body).encode("utf-8"), headers=headers, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=timeout) as res:
                out = json.loads(res.read().decode("utf-8"))
        except urllib.error.HTTPError as e:
            raise RuntimeError(f"bonsai reward server: {e.code}: {e.read().decode('utf-8', 'replace')}") from None
        return out["rewards"] if reward is None else out["by_reward"][reward]

    # TRL names the logged metric after the function.
    reward_fn.__name__ = f"bonsai_{reward or 'total'}"
    return reward_fn


def _text(x):
    """A plain string, or the contents of a conversation (TRL's conversational format)."""
    if isinstance(x, str):
        return x
    return "\n".join(m.get("content", "") if isinstance(m, dict) else str(m) for m in x)
