from overclaim.sentences import split_sentences


def pieces(text):
    return [text[s.start:s.end] for s in split_sentences(text)]


def test_offsets_point_into_original_text():
    text = "  Turmeric cured me!  Ask Dr. Smith about it.\n\nReally? Yes."
    assert pieces(text) == ["Turmeric cured me!", "Ask Dr. Smith about it.", "Really?", "Yes."]


def test_line_breaks_end_sentences_without_punctuation():
    assert pieces("Miracle detox tea\nRemoves all toxins") == ["Miracle detox tea", "Removes all toxins"]


def test_closing_quotes_stay_with_their_sentence():
    assert pieces('He said "it cures everything." Nope.') == ['He said "it cures everything."', "Nope."]


def test_blank_text_has_no_sentences():
    assert split_sentences("   \n ") == []
