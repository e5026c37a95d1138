"""BM25 keyword scoring, analysis and rank fusion, without the embedding model."""

from __future__ import annotations

from steward_indexer import fuse_rankings
from steward_indexer._analysis import analyse, fold_accents
from steward_indexer._keyword import KeywordIndex


def _index() -> KeywordIndex:
    index = KeywordIndex()
    index.add(tenant="a", chunk_id="p1", text="Renew your passport by mail", language="en",
              classification="public")  # fmt: skip
    index.add(tenant="a", chunk_id="p2", text="Passport fees and photos", language="en",
              classification="public")  # fmt: skip
    index.add(tenant="a", chunk_id="i1", text="Staff passport override procedure", language="en",
              classification="internal")  # fmt: skip
    index.add(tenant="a", chunk_id="s1", text="Renueve su pasaporte por correo", language="es",
              classification="public")  # fmt: skip
    index.add(tenant="b", chunk_id="b1", text="Renew your passport at the counter", language="en",
              classification="public")  # fmt: skip
    return index


def test_accents_are_folded_and_words_stemmed() -> None:
    assert fold_accents("Declaración Año") == "declaracion ano"
    assert analyse("¿Cómo renuevo mi pasaporte?", "es") == analyse("como renuevo pasaportes", "es")
    assert analyse("renewing the passports", "en") == ["renew", "passport"]


def test_search_stays_inside_tenant_and_clearance() -> None:
    index = _index()
    public = index.search(tenant="a", query="passport procedure", language="en",
                          readable=("public",), limit=10)  # fmt: skip
    internal = index.search(tenant="a", query="passport procedure", language="en",
                            readable=("public", "internal"), limit=10)  # fmt: skip
    assert {chunk for chunk, _ in public} == {"p1", "p2"}
    assert internal[0][0] == "i1"
    assert index.search(tenant="c", query="passport", language="en", readable=("public",),
                        limit=10) == []  # fmt: skip


def test_hidden_chunks_do_not_change_visible_scores() -> None:
    with_hidden = _index()
    without_hidden = _index()
    without_hidden.remove(tenant="a", chunk_id="i1")
    query = {"tenant": "a", "query": "passport", "language": "en", "readable": ("public",)}
    assert with_hidden.search(**query, limit=5) == without_hidden.search(**query, limit=5)


def test_misspelled_words_match_close_spellings() -> None:
    results = _index().search(tenant="a", query="renw pasport", language="en",
                              readable=("public",), limit=3)  # fmt: skip
    assert results[0][0] == "p1"


def test_spanish_question_prefers_spanish_chunk() -> None:
    results = _index().search(tenant="a", query="¿Cómo renuevo mi pasaporte por correo?",
                              language="es", readable=("public",), limit=3)  # fmt: skip
    assert results[0][0] == "s1"


def test_removed_chunk_is_never_found() -> None:
    index = _index()
    index.remove(tenant="a", chunk_id="p1")
    found = index.search(tenant="a", query="renew mail", language="en", readable=("public",),
                         limit=10)  # fmt: skip
    assert "p1" not in {chunk for chunk, _ in found}
    assert len(index) == 4


def test_reciprocal_rank_fusion_rewards_agreement() -> None:
    fused = fuse_rankings([["a", "b", "c"], ["b", "d"]], k=60)
    assert [chunk for chunk, _ in fused] == ["b", "a", "d", "c"]
    assert fused[0][1] == 1 / 62 + 1 / 61


def test_chunk_ids_are_canonical_uuids() -> None:
    import pytest
    from steward_indexer import DocumentChunk

    chunk = DocumentChunk(
        chunk_id="A752EE099E4B4B987D1067842A1F495F", ordinal=0, text="x", embedding_text="x"
    )
    assert chunk.chunk_id == "a752ee09-9e4b-4b98-7d10-67842a1f495f"
    with pytest.raises(ValueError, match="'chunk-1' is not a UUID"):
        DocumentChunk(chunk_id="chunk-1", ordinal=0, text="x", embedding_text="x")
