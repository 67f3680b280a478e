"""SSML subset: segments in order, nesting, entities, sentence breaks; bad markup refused."""

import pytest

from glowtts.text.sentences import ends_sentence, split_sentences
from glowtts.text.ssml import (
    BREAK_STRENGTHS,
    Break,
    SSMLError,
    Text,
    insert_sentence_breaks,
    is_ssml,
    parse_ssml,
    spell_characters,
    to_segments,
)


def test_text_and_breaks_in_order():
    doc = '<speak>Hello there. <break time="300ms"/>How are you?<break time="1.5s"/>Bye</speak>'
    assert parse_ssml(doc) == [
        Text("Hello there."),
        Break(0.3),
        Text("How are you?"),
        Break(1.5),
        Text("Bye"),
    ]


@pytest.mark.parametrize("strength, seconds", sorted(BREAK_STRENGTHS.items()))
def test_break_strengths(strength, seconds):
    assert parse_ssml(f'<speak>a<break strength="{strength}"/>b</speak>')[1] == Break(seconds)


def test_break_defaults_time_wins_and_adjacent_breaks_sum():
    assert parse_ssml("<speak>a<break/>b</speak>")[1] == Break(BREAK_STRENGTHS["medium"])
    doc = '<speak>a<break time="200ms" strength="x-strong"/><break time="0.1s"/>b</speak>'
    segs = parse_ssml(doc)
    assert [type(s) for s in segs] == [Text, Break, Text]
    assert segs[1].seconds == pytest.approx(0.3)


def test_prosody_nesting_multiplies():
    doc = (
        '<speak>normal <prosody rate="slow">slow <prosody rate="50%">slower</prosody> '
        'slow again</prosody> <prosody rate="200%">fast</prosody></speak>'
    )
    segs = parse_ssml(doc)
    assert [s.text for s in segs] == ["normal", "slow", "slower", "slow again", "fast"]
    factors = [s.length_scale_factor for s in segs]
    assert factors == pytest.approx([1.0, 1 / 0.8, 1 / 0.4, 1 / 0.8, 0.5])


def test_say_as_characters_spells():
    segs = parse_ssml('<speak>Call <say-as interpret-as="characters">NHS2</say-as> now</speak>')
    assert segs == [Text("Call en aitch ess two now")]
    assert spell_characters("w x") == "double you ex"


def test_entities_decoded_and_comments_ignored():
    doc = "<speak>Tom &amp; Jerry &lt;3 &quot;hi&quot; &#65;&#x42; <!-- not read --></speak>"
    assert parse_ssml(doc) == [Text('Tom & Jerry <3 "hi" AB')]


def test_speak_attributes_and_xml_declaration():
    doc = (
        '<?xml version="1.0"?><speak version="1.0" xmlns="http://www.w3.org/2001/10/synthesis"'
        ' xml:lang="en-US">Hi</speak>'
    )
    assert is_ssml(doc) and parse_ssml(doc) == [Text("Hi")]


def test_inline_phonemes_pass_through():
    assert parse_ssml("<speak>say {HH AH0 L OW1}</speak>") == [Text("say {HH AH0 L OW1}")]


@pytest.mark.parametrize(
    "doc, named",
    [
        ("<speak><emphasis>x</emphasis></speak>", "<emphasis>"),
        ('<speak><break foo="1"/></speak>', "attribute 'foo'"),
        ('<speak><prosody pitch="high">x</prosody></speak>', "attribute 'pitch'"),
        ('<speak><prosody rate="1000%">x</prosody></speak>', 'rate="1000%"'),
        ('<speak><prosody rate="quick">x</prosody></speak>', 'rate="quick"'),
        ("<speak><prosody>x</prosody></speak>", "needs a rate"),
        ('<speak><break time="3 minutes"/></speak>', 'time="3 minutes"'),
        ('<speak><break time="11s"/></speak>', "at most 10 s"),
        ('<speak><break strength="loud"/></speak>', 'strength="loud"'),
        ('<speak><say-as interpret-as="date">1/2</say-as></speak>', 'interpret-as="date"'),
        ('<speak><say-as interpret-as="characters"><break/></say-as></speak>', "inside <say-as>"),
        ("<speak><break>words</break></speak>", "inside <break>"),
        ("<speak><speak>x</speak></speak>", "<speak> inside <speak>"),
        ("<p>x</p>", "unsupported tag <p>"),
        ('<speak xml:lang="de-DE">Hallo</speak>', "English"),
    ],
)
def test_unsupported_markup_is_named(doc, named):
    with pytest.raises(SSMLError) as e:
        parse_ssml(doc)
    assert named in str(e.value)
    if "malformed" not in str(e.value):
        assert "supported: <speak>" in str(e.value)


@pytest.mark.parametrize(
    "doc", ["<speak>unclosed", "<speak>a</speak>trailing", "<speak>a &nbsp; b</speak>", "x<y"]
)
def test_malformed_xml(doc):
    with pytest.raises(SSMLError, match="malformed XML"):
        parse_ssml(doc)


BILLION_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
    + "".join(
        f' <!ENTITY lol{i} "' + f"&lol{i - 1 if i > 1 else ''};" * 10 + '">\n' for i in range(1, 10)
    )
    + "]>\n<speak>&lol9;</speak>"
)
XXE = (
    '<?xml version="1.0"?><!DOCTYPE s [<!ENTITY x SYSTEM "file:///etc/passwd">]><speak>&x;</speak>'
)


@pytest.mark.parametrize("doc", [BILLION_LAUGHS, XXE])
def test_entity_declarations_refused_before_expansion(doc):
    with pytest.raises(SSMLError, match="DOCTYPE"):
        parse_ssml(doc)


def test_processing_instruction_refused():
    with pytest.raises(SSMLError, match="processing instructions"):
        parse_ssml("<speak><?php echo 1 ?>x</speak>")


def test_plain_text_is_not_parsed():
    assert not is_ssml("1 < 2 and <b> is bold")
    assert to_segments("1 < 2  and <b>") == [Text("1 < 2 and <b>")]
    assert to_segments("<speak>a</speak>") == [Text("a")]
    # a blank line ends a sentence, so it survives for the sentence splitter
    segs = to_segments("no end here\n \n  new  one")
    assert segs == [Text("no end here\n\nnew one")]
    assert insert_sentence_breaks(segs, 0.3) == [Text("no end here"), Break(0.3), Text("new one")]


def test_sentence_splitter():
    text = (
        'Dr. Smith came. He sat!  "Why?" she asked. J. R. Tolkien wrote in the U.S. Army. 3 left.'
    )
    assert split_sentences(text) == [
        "Dr. Smith came.",
        "He sat!",
        '"Why?" she asked.',
        "J. R. Tolkien wrote in the U.S. Army.",
        "3 left.",
    ]
    assert split_sentences("It cost 3.5 dollars, e.g. today.\n\nnext") == [
        "It cost 3.5 dollars, e.g. today.",
        "next",
    ]
    assert ends_sentence("done.") and not ends_sentence("Dr.") and not ends_sentence("and")


def test_sentence_breaks_between_sentences_only():
    segs = insert_sentence_breaks([Text("One. Two!"), Text("Three", 1.25), Break(0.1)], 0.5)
    assert segs == [
        Text("One."),
        Break(0.5),
        Text("Two!"),
        Break(0.5),
        Text("Three", 1.25),
        Break(0.1),
    ]
    # no break inside a sentence that a prosody change cut, none after an explicit break
    segs = parse_ssml(
        '<speak>Say <prosody rate="fast">this</prosody> now. <break strength="none"/>Ok.</speak>'
    )
    assert insert_sentence_breaks(segs, 0.5) == segs
    assert insert_sentence_breaks([Text("A. B.")], 0) == [Text("A. B.")]
    with pytest.raises(ValueError):
        insert_sentence_breaks([], -1)
    # a caller's own splitter
    assert insert_sentence_breaks([Text("a,b")], 0.2, split=lambda t: t.split(",")) == [
        Text("a"),
        Break(0.2),
        Text("b"),
    ]
