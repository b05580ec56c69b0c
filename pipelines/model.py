"""The canonical model every export format is parsed into.

One place for the shape of the data: each parser in ``pipelines.formats`` returns a
:class:`ParsedFile` whose frames follow these schemas exactly, and the raw layer in DuckDB
(``pipelines.warehouse``) stores them unchanged. What a format cannot say (follower counts,
like timestamps) stays null rather than being invented.

Vocabulary
----------
accounts
    Everyone who appears in a file: authors, people mentioned, people replied to.
messages
    Text someone wrote: ``post`` (starts something), ``reply`` (answers ``parent_id``) or
    ``quote`` (comments on ``quoted_id``; a quote that also replies is a ``reply`` with
    ``quoted_id`` set).
actions
    Engagements without text of their own: ``share`` (retweet, boost, repost), ``like``,
    ``follow``, ``mention`` (one row per account a message names).
rejects
    Records that could not be parsed, set aside with where they were and why.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

UTC_DATETIME = pl.Datetime("us", "UTC")

MESSAGE_KINDS = ("post", "reply", "quote")
ACTION_KINDS = ("share", "like", "follow", "mention")

ACCOUNT_SCHEMA: dict[str, pl.DataType] = {
    "platform": pl.String,  # 'twitter', 'mastodon', 'reddit', ... (lower case)
    "account_id": pl.String,  # platform-native id (for TWCS: the author_id as given)
    "handle": pl.String,  # username without '@', when known
    "display_name": pl.String,
    "followers_count": pl.Int64,  # null when the export does not say
    "is_brand_hint": pl.Boolean,  # the export itself says this is a company account (TWCS)
    "source_format": pl.String,
    "source_file": pl.String,
}

MESSAGE_SCHEMA: dict[str, pl.DataType] = {
    "platform": pl.String,
    "message_id": pl.String,  # platform-native id
    "author_id": pl.String,
    "kind": pl.String,  # one of MESSAGE_KINDS
    "text": pl.String,
    "created_at": UTC_DATETIME,
    "parent_id": pl.String,  # message this one replies to
    "parent_author_id": pl.String,  # its author, when the export says so
    "quoted_id": pl.String,  # message this one quotes
    "thread_id": pl.String,  # conversation root, when the export says so
    "url": pl.String,  # link to the original post, when one can be built
    "source_format": pl.String,
    "source_file": pl.String,
    "source_line": pl.Int64,  # 1-based line (or record number) in the file
}

ACTION_SCHEMA: dict[str, pl.DataType] = {
    "platform": pl.String,
    "action_id": pl.String,  # native id when the platform has one (a retweet's id), else derived
    "kind": pl.String,  # one of ACTION_KINDS
    "actor_id": pl.String,
    "target_account_id": pl.String,  # whose message / who is followed or mentioned
    "target_handle": pl.String,  # when only the handle is known (a mention in plain text)
    "target_message_id": pl.String,  # the message shared, liked, or that carries the mention
    "created_at": UTC_DATETIME,  # null when the export does not say (archive likes)
    "source_format": pl.String,
    "source_file": pl.String,
    "source_line": pl.Int64,
}

REJECT_SCHEMA: dict[str, pl.DataType] = {
    "source_format": pl.String,  # the format the file was detected as ('unknown' if none)
    "source_file": pl.String,
    "position": pl.Int64,  # 1-based line (or record number); null when the whole file failed
    "reason": pl.String,
    "raw_excerpt": pl.String,  # the first 300 characters of the offending record
}

TABLE_SCHEMAS: dict[str, dict[str, pl.DataType]] = {
    "accounts": ACCOUNT_SCHEMA,
    "messages": MESSAGE_SCHEMA,
    "actions": ACTION_SCHEMA,
    "rejects": REJECT_SCHEMA,
}


def empty_frame(table: str) -> pl.DataFrame:
    """An empty frame with the canonical schema of ``table``."""
    return pl.DataFrame(schema=TABLE_SCHEMAS[table])


def conform(frame: pl.DataFrame, table: str) -> pl.DataFrame:
    """Cast ``frame`` to the canonical schema of ``table``: missing columns become null,
    columns are ordered and typed as the schema says, extra columns are an error."""
    schema = TABLE_SCHEMAS[table]
    extra = set(frame.columns) - set(schema)
    if extra:
        raise ValueError(f"{table}: unexpected columns {sorted(extra)}")
    return frame.select(
        [
            (pl.col(name) if name in frame.columns else pl.lit(None)).cast(dtype).alias(name)
            for name, dtype in schema.items()
        ]
    )


@dataclass
class ParsedFile:
    """What one export file yields, in the canonical model."""

    source_file: str
    source_format: str
    accounts: pl.DataFrame = field(default_factory=lambda: empty_frame("accounts"))
    messages: pl.DataFrame = field(default_factory=lambda: empty_frame("messages"))
    actions: pl.DataFrame = field(default_factory=lambda: empty_frame("actions"))
    rejects: pl.DataFrame = field(default_factory=lambda: empty_frame("rejects"))

    def counts(self) -> dict[str, int]:
        return {
            "accounts": self.accounts.height,
            "messages": self.messages.height,
            "actions": self.actions.height,
            "rejects": self.rejects.height,
        }
