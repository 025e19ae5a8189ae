"""Built-in question stems for the seven sub-tasks, in English and Chinese.

Stems are short (the default LLM is a 135M model scoring option texts). The
Chinese stems keep the phrasings the official UQABench scorer classifies by:
df "次浏览的商品的" / "次（从1开始计数）浏览的"; mf "长度是多少？" / "的商品有多少个";
ip "下一个可能点击的商品的标题是什么"; ap "用户下一个可能点击的商品的";
li "用户最感兴趣的3个"; si "用户近期最感兴趣的"; it "偏好的转移路径是什么".
"""

from __future__ import annotations

from uqa_data.questions.base import Template

ATTR_WORDS: dict[str, dict[str, tuple[str, str]]] = {
    "en": {
        "category": ("category", "categories"),
        "brand": ("brand", "brands"),
        "shop": ("shop", "shops"),
        "title": ("item", "items"),
    },
    "zh": {
        "category": ("类目", "类目"),
        "brand": ("品牌", "品牌"),
        "shop": ("店铺", "店铺"),
        "title": ("商品", "商品"),
    },
}
"""Language -> attribute -> (singular, plural) word filled into ``{attr}``/``{attrs}``."""

LIST_SEPARATORS: dict[str, dict[str, str]] = {
    "en": {"names": ", ", "titles": "; "},
    "zh": {"names": "、", "titles": "；"},
}
"""How multi-value answers (li, df last-k) are joined in each language."""

TRAJECTORY: dict[str, dict[str, str]] = {
    "en": {"changed": "{a}, then {b}", "stayed": "{a}, then {a}"},
    "zh": {"changed": "从{a}转向{b}", "stayed": "一直是{a}"},
}
"""Option texts of the interest-trajectory (it) sub-task. The English options all
share one form, so the first word does not decide the answer: with "from A to B" /
"stayed on A", SmolLM2-135M picked a "from" option 92-100% of the time whatever
the context (12% accuracy with no context, 30% with the answer written in the
prompt; 22% and 56% with this form). The official Chinese phrasings stay."""


def ordinal(n: int, lang: str) -> str:
    """1 -> "last", 2 -> "2nd-to-last" (en); 倒数第n (zh)."""
    if lang == "zh":
        return f"倒数第{n}"
    if n == 1:
        return "last"
    suffix = {2: "nd", 3: "rd"}.get(n if n < 20 else n % 10, "th")
    return f"{n}{suffix}-to-last"


def _t(task: str, variant: str, number: int, en: str, zh: str) -> Template:
    return Template(task, variant, f"{task}_{variant}_{number}", {"en": en, "zh": zh})


BUILTIN_TEMPLATES: tuple[Template, ...] = (
    # df: direct feature of a past click
    _t(
        "df",
        "attr",
        1,
        "What is the {attr} of the {ordinal} item the user clicked?",
        "用户倒数第{n}次浏览的商品的{attr}是什么？",
    ),
    _t(
        "df",
        "attr",
        2,
        "The user's {ordinal} click was on an item of which {attr}?",
        "用户最近第{n}次（从1开始计数）浏览的商品属于哪个{attr}？",
    ),
    _t(
        "df",
        "attr",
        3,
        "Which {attr} did the {ordinal} item in the user's history belong to?",
        "在用户的历史中，倒数第{n}次浏览的商品的{attr}是哪个？",
    ),
    _t(
        "df",
        "title",
        1,
        "What is the title of the {ordinal} item the user clicked?",
        "用户倒数第{n}次浏览的商品的标题是什么？",
    ),
    _t(
        "df",
        "title",
        2,
        "Which item was the user's {ordinal} click?",
        "用户最近第{n}次（从1开始计数）浏览的商品是哪一个？",
    ),
    _t(
        "df",
        "last_k",
        1,
        "Which were the last {k} items the user clicked, oldest first?",
        "用户最近{k}次浏览的商品的标题依次是什么？（按时间先后）",
    ),
    _t(
        "df",
        "last_k",
        2,
        "List the user's {k} most recent clicks in the order they happened.",
        "按时间顺序，用户最近{k}次浏览的商品的标题是什么？",
    ),
    # mf: count of history clicks matching a target
    _t(
        "mf",
        "attr",
        1,
        "How many times did the user click items of the {attr} {value}?",
        "用户浏览过的{attr}为“{value}”的商品有多少个？",
    ),
    _t(
        "mf",
        "attr",
        2,
        "How many clicked items in the user's history are from the {attr} {value}?",
        "在用户的浏览历史中，{attr}是“{value}”的商品有多少个？",
    ),
    _t(
        "mf",
        "length",
        1,
        "How many items has the user clicked in total?",
        "用户浏览历史的长度是多少？",
    ),
    _t("mf", "length", 2, "How long is the user's click history?", "用户点击序列的长度是多少？"),
    # ip: next item
    _t(
        "ip",
        "title",
        1,
        "What is the title of the item the user will most likely click next?",
        "用户下一个可能点击的商品的标题是什么？",
    ),
    _t(
        "ip",
        "title",
        2,
        "Which item will the user most likely click next?",
        "根据用户的历史，用户下一个可能点击的商品的标题是什么？",
    ),
    # ap: an attribute of the next item
    _t(
        "ap",
        "attr",
        1,
        "Which {attr} will the user most likely click next?",
        "用户下一个可能点击的商品的{attr}是什么？",
    ),
    _t(
        "ap",
        "attr",
        2,
        "What is the {attr} of the item the user will most likely click next?",
        "根据用户的历史，用户下一个可能点击的商品的{attr}最可能是哪个？",
    ),
    # li: top-3 long-term interests, ordered
    _t(
        "li",
        "attr",
        1,
        "Recommend the user's 3 favourite {attrs}, most favourite first.",
        "用户最感兴趣的3个{attr}是什么？请按兴趣从高到低排列。",
    ),
    _t(
        "li",
        "attr",
        2,
        "Which 3 {attrs} does the user like most, in order?",
        "请推荐用户最感兴趣的3个{attr}（按兴趣从高到低）。",
    ),
    # si: dominant recent interest
    _t(
        "si",
        "attr",
        1,
        "What is the user's recent favourite {attr}?",
        "用户近期最感兴趣的{attr}是什么？",
    ),
    _t(
        "si",
        "attr",
        2,
        "Which {attr} has the user been most interested in lately?",
        "根据最近的浏览，用户近期最感兴趣的{attr}是哪个？",
    ),
    # it: did the dominant interest change, and how
    _t(
        "it",
        "attr",
        1,
        "Has the user's favourite {attr} changed recently, and what is the path?",
        "用户的兴趣最近是否发生变化？用户{attr}偏好的转移路径是什么？",
    ),
    _t(
        "it",
        "attr",
        2,
        "How did the user's main {attr} interest move recently?",
        "用户近期{attr}偏好的转移路径是什么？",
    ),
)
"""Registered by :mod:`uqa_data.questions.builtins` through ``uqa_register_templates``."""
