"""The benchmark's generated data is valid input: every row loads, nothing is rejected."""

import polars as pl

from pipelines.bench import generate_interactions
from pipelines.brands import load_brands
from pipelines.formats import parse_file


def test_generated_interactions_all_load(tmp_path):
    info = generate_interactions(5_000, tmp_path, seed=3, unique_text_share=0.5)
    parsed = parse_file(tmp_path / "interactions.csv")
    assert parsed.source_format == "generic_csv"
    assert parsed.rejects.height == 0
    non_mentions = parsed.actions.filter(pl.col("kind") != "mention").height
    assert parsed.messages.height + non_mentions == info["interactions"] == 5_000
    assert parsed.messages.height == info["messages"]
    texts = parsed.messages["text"]
    with_ref = texts.str.contains(r"\(ref \d+\)$").mean()
    assert 0.4 < with_ref < 0.6  # about half the messages got a text of their own
    assert texts.filter(texts.str.contains("(ref ", literal=True)).n_unique() == (
        texts.str.contains("(ref ", literal=True).sum())
    assert len(load_brands(tmp_path / "brands.toml")) == 5
