"""Renders chat templates as transformers' apply_chat_template does (its _compile_jinja_template):
a jinja2 ImmutableSandboxedEnvironment with trim_blocks and lstrip_blocks, the loopcontrols
extension, tojson as transformers defines it (ensure_ascii False), raise_exception and
strftime_now as globals, and the special tokens in scope. Written from transformers'
published chat-template code; used by test/models/real-tokenizers.test.ts (Debian's python3-jinja2).

stdin: [{"template", "messages", "add_generation_prompt", "special": {bos_token, ...}}, ...]
stdout: ["rendered", ...] (or {"error": "..."} for a case whose template raised)
"""
import json
import sys
from datetime import datetime

import jinja2
from jinja2.ext import loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment


def raise_exception(message):
    raise jinja2.exceptions.TemplateError(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def strftime_now(fmt):
    return datetime.now().strftime(fmt)


def render(case):
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
    env.filters['tojson'] = tojson
    env.globals['raise_exception'] = raise_exception
    env.globals['strftime_now'] = strftime_now
    try:
        return env.from_string(case['template']).render(
            messages=case['messages'], add_generation_prompt=case['add_generation_prompt'], **case['special'])
    except jinja2.exceptions.TemplateError as e:
        return {'error': str(e)}


print(json.dumps([render(c) for c in json.load(sys.stdin)]))
