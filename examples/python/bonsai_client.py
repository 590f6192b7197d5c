"""A client for `bonsai serve-reward`, standard library only (urllib): no pip install.

    from bonsai_client import BonsaiRewardClient
    client = BonsaiRewardClient("http://127.0.0.1:8470")          # token: $BONSAI_REWARD_TOKEN
    client.rewards([" blue"], prompts=["Q: sky?"], answers=["blue"])["rewards"]   # -> [0.83]
    client.get_reward(["Q: sky? blue"], prompts=["Q: sky?"])      # OpenRLHF's shape

Errors the server reports (4xx: a malformed or over-limit request) raise BonsaiRewardError
with the server's message and are not retried; a refused connection or a 503 (busy) is
retried with a growing pause. See docs/reward-server.md for the endpoints.
"""
import json
import os
import time
import urllib.error
import urllib.request

__all__ = ["BonsaiRewardClient", "BonsaiRewardError"]


class BonsaiRewardError(RuntimeError):
    """The server answered with an error: `status` is the HTTP status, the message is the server's."""

    def __init__(self, status, message):
        super().__init__(f"bonsai reward server: {status}: {message}")
        self.status = status
        self.message = message


class BonsaiRewardClient:
    def __init__(self, url="http://127.0.0.1:8470", token=None, timeout=180.0, retries=3, chunk_size=256):
        self.url = url.rstrip("/")
        self.token = token if token is not None else os.environ.get("BONSAI_REWARD_TOKEN")
        self.timeout = timeout
        self.retries = retries
        # Requests larger than this are split, so a big rollout batch never meets the server's --max-batch.
        self.chunk_size = chunk_size

    def health(self):
        return self._request("GET", "/health")

    def info(self):
        """The served model, its fingerprint, probes, rewards, limits."""
        return self._request("GET", "/v1/info")

    def rewards(self, completions, prompts=None, answers=None, per_token=False):
        """bonsai's endpoint: {"rewards": [total...], "by_reward": {name: [...]}, "weights", "metrics", ["tokens"]}."""
        completions = list(completions)
        out = None
        # At least one request, so an empty list gets the server's own error rather than None.
        for lo in range(0, max(len(completions), 1), self.chunk_size):
            hi = lo + self.chunk_size
            body = {"completions": completions[lo:hi], "per_token": per_token}
            if prompts is not None:
                body["prompts"] = list(prompts)[lo:hi]
            if answers is not None:
                body["answers"] = list(answers)[lo:hi]
            part = self._request("POST", "/v1/rewards", body)
            out = part if out is None else _merge(out, part)
        return out

    def get_reward(self, queries, prompts=None, labels=None):
        """OpenRLHF's endpoint: {"rewards", "scores", "extra_logs"} for prompt+response queries."""
        body = {"query": list(queries)}
        if prompts is not None:
            body["prompts"] = list(prompts)
        if labels is not None:
            body["labels"] = list(labels)
        return self._request("POST", "/get_reward", body)

    def _request(self, method, path, body=None):
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        for attempt in range(self.retries + 1):
            req = urllib.request.Request(self.url + path, data=data, headers=headers, method=method)
            try:
                with urllib.request.urlopen(req, timeout=self.timeout) as res:
                    return json.loads(res.read().decode("utf-8"))
            except urllib.error.HTTPError as e:
                message = _error_message(e)
                if e.code != 503 or attempt == self.retries:
                    raise BonsaiRewardError(e.code, message) from None
            except urllib.error.URLError as e:
                if attempt == self.retries:
                    raise BonsaiRewardError(0, f"cannot reach {self.url}: {e.reason}") from None
            time.sleep(0.5 * 2**attempt)


def _error_message(e):
    try:
        return json.loads(e.read().decode("utf-8"))["error"]
    except Exception:
        return e.reason


def _merge(a, b):
    """Joins the answers of two chunks (metrics are the last chunk's)."""
    out = dict(b)
    out["rewards"] = a["rewards"] + b["rewards"]
    out["by_reward"] = {k: a["by_reward"][k] + b["by_reward"][k] for k in a["by_reward"]}
    if "tokens" in a:
        out["tokens"] = a["tokens"] + b["tokens"]
    return out
