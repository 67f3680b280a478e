"""Text front-end: cleaners, number/abbreviation normalisation, token types, token lists.

Public interface::

    from glowtts.text import build_frontend, Frontend, TokenList, intersperse
    fe = build_frontend({"token_type": "phn", "add_blank": True})
    fe.tokenize("Dr. Smith paid $5.")   # cleaned tokens
    fe.encode("Dr. Smith paid $5.")     # model input ids (blanks interspersed)
    fe = Frontend.from_file("data/token_list/phn/frontend.yaml")

Modules: :mod:`.cleaners` (named cleaners), :mod:`.numbers`, :mod:`.g2p`
(offline g2p_en), :mod:`.tokenizers` (``TOKENIZERS`` registry), :mod:`.token_list`,
:mod:`.blanks` (``add_blank`` and durations), :mod:`.frontend`, :mod:`.lexicon`
(user lexicon; inline phonemes ``{HH AH0 L OW1}`` are read by the ``phn`` type),
:mod:`.ssml` (SSML subset -> ``Text``/``Break`` segments), :mod:`.sentences`
(sentence splitter). The g2p data
load lazily, on the first phoneme conversion.
"""

from glowtts.text.blanks import intersperse, remove_blanks, strip_blank_durations
from glowtts.text.cleaners import CLEANERS, clean_text, get_cleaner
from glowtts.text.frontend import (
    EmptyTextError,
    Frontend,
    UnknownTextError,
    build_frontend,
    resolve_conf,
)
from glowtts.text.lexicon import Lexicon, PronunciationError
from glowtts.text.sentences import split_sentences
from glowtts.text.ssml import SSMLError, insert_sentence_breaks, parse_ssml, to_segments
from glowtts.text.token_list import BLANK, BLANK_ID, UNK, UNK_ID, TokenList
from glowtts.text.tokenizers import TOKENIZERS, get_tokenizer_class, train_bpe

__all__ = [
    "BLANK",
    "BLANK_ID",
    "CLEANERS",
    "EmptyTextError",
    "UnknownTextError",
    "Frontend",
    "Lexicon",
    "PronunciationError",
    "SSMLError",
    "TOKENIZERS",
    "TokenList",
    "UNK",
    "UNK_ID",
    "build_frontend",
    "clean_text",
    "get_cleaner",
    "get_tokenizer_class",
    "insert_sentence_breaks",
    "intersperse",
    "parse_ssml",
    "remove_blanks",
    "resolve_conf",
    "split_sentences",
    "strip_blank_durations",
    "to_segments",
    "train_bpe",
]
