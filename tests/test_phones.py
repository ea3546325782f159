"""Phone numbers normalised with the phonenumbers library (aimport.itemtypes.phones): written forms, regions,
numbers read from number cells, and every rejection with its reason."""

from __future__ import annotations

import time

import pytest

from aimport.itemtypes import phones
from aimport.itemtypes.phones import PhoneError, is_national, normalise_phone, phone_from_number

# (cell text, phone_region, stored form)
ACCEPTED = [
    # international, however written: E.164
    ("+358 40 123 4567", "", "+358401234567"),
    ("+358401234567", "FI", "+358401234567"),
    ("00358 40 123 4567", "", "+358401234567"),
    ("00358401234567", "SE", "+358401234567"),
    ("+358 (0)40 123 4567", "", "+358401234567"),  # the trunk prefix after the country code is dropped
    ("+358 (0)40 123 4567", "FI", "+358401234567"),
    ("+3580401234567", "", "+358401234567"),  # the old regex's form of the line above
    ("(+358) 40 123 4567", "", "+358401234567"),
    ("+358-40-123-4567", "", "+358401234567"),
    ("+358.40.123.4567", "", "+358401234567"),
    ("+358\u00a040\u00a0123\u00a04567", "", "+358401234567"),  # no-break spaces
    ("+358 40 123\u20114567", "", "+358401234567"),  # a non-breaking hyphen
    ("+44 (0)20 7946 0958", "", "+442079460958"),
    ("+44 (0)20 7946 0958", "FI", "+442079460958"),
    ("0044 (0) 20 7946 0958", "", "+442079460958"),
    ("0044 20 7946 0958", "US", "+442079460958"),
    ("+49 (0)30 12345678", "", "+493012345678"),
    ("+49 30/12345678", "", "+493012345678"),
    ("+46 (0)70 123 45 67", "", "+46701234567"),
    ("+1 (201) 555-0123", "", "+12015550123"),
    ("+39 06 1234 5678", "", "+390612345678"),  # Italy keeps its leading 0
    ("+800 1234 5678", "", "+80012345678"),  # non-geographic
    # national with a region: E.164 of that region
    ("040 123 4567", "FI", "+358401234567"),
    ("(040) 1234567", "FI", "+358401234567"),
    ("040-1234567", "FI", "+358401234567"),
    ("040/123 4567", "FI", "+358401234567"),
    ("050 765 4321", "FI", "+358507654321"),
    ("050-765 4321", "FI", "+358507654321"),
    ("09 555 0001", "FI", "+35895550001"),
    ("070-123 45 67", "SE", "+46701234567"),
    ("08-123 456 78", "SE", "+46812345678"),
    ("030/12345678", "DE", "+493012345678"),
    ("8 800 555 35 35", "RU", "+78005553535"),  # a national number that begins like the trunk prefix 8: valid
    ("+7 800 555 35 35", "", "+78005553535"),
    ("0211 1234567", "DE", "+492111234567"),
    ("(030) 1234 5678", "DE", "+493012345678"),
    ("020 7946 0958", "GB", "+442079460958"),
    ("07700 900123", "GB", "+447700900123"),
    ("(201) 555-0123", "US", "+12015550123"),
    ("201-555-0123", "US", "+12015550123"),
    ("1-201-555-0123", "US", "+12015550123"),
    ("011 358 40 123 4567", "US", "+358401234567"),  # the region's own international prefix
    ("\u0660\u0664\u0660\u0661\u0662\u0663\u0664\u0665\u0666\u0667", "FI", "+358401234567"),  # Arabic-Indic digits
    ("040 123 4567", "fi", "+358401234567"),  # the region in any case
    # national without a region: its digits
    ("040 123 4567", "", "0401234567"),
    ("(040) 123-4567", "", "0401234567"),
    ("030/12345678", "", "03012345678"),
    ("201.555.0123", "", "2015550123"),
    ("112", "", "112"),
    # a region's short numbers: their digits
    ("112", "FI", "112"),
    ("112", "DE", "112"),
    ("116 123", "DE", "116123"),
    ("911", "US", "911"),
    # service codes, as the old normalisation kept them
    ("*100#", "", "*100#"),
    ("*100#", "FI", "*100#"),
    ("#31#", "SE", "#31#"),
    ("*21*040 123 4567#", "FI", "*21*0401234567#"),
]

# (cell text, phone_region, the reason's words)
REJECTED = [
    ("040 123 4567 / 050 765 4321", "", "holds two phone numbers: one number per cell"),
    ("040 123 4567 / 050 765 4321", "FI", "holds two phone numbers: one number per cell"),
    ("+358 40 123 4567, +358 50 765 4321", "", "holds two phone numbers"),
    ("040 123 4567; 050 765 4321", "FI", "holds two phone numbers"),
    ("040 123 4567 | 050 765 4321", "FI", "holds two phone numbers"),
    ("040 123 4567 & 050 765 4321", "FI", "holds two phone numbers"),
    ("040 123 4567\n050 765 4321", "FI", "holds two phone numbers"),
    ("040 123 4567 or 050 765 4321", "FI", "holds two phone numbers"),
    ("040 123 4567 and 050 765 4321", "", "holds two phone numbers"),
    ("040 123 4567 / 050 765 4321 / 09 555 0001", "FI", "holds three phone numbers"),
    ("040 123 4567 / 050 765 4321 / 12", "FI", "holds more than one phone number"),
    ("040 123 4567, 050 765", "FI", "holds ',', which does not belong in a phone number"),
    ("040 123 4567;", "FI", "holds ';', which does not belong"),
    ("+358 40 1234567 / 8", "FI", "holds '/', which does not belong"),
    ("040 123 4567 ext. 12", "FI", "has an extension (12)"),
    ("040 123 4567 ext 12", "", "has an extension (12)"),
    ("040 123 4567 extension 12", "FI", "has an extension (12)"),
    ("040 123 4567 x12", "FI", "has an extension (12)"),
    ("040 123 4567 x 12", "", "has an extension (12)"),
    ("+358401234567;ext=12", "", "has an extension (12)"),
    ("+358401234567#12", "FI", "has an extension (12)"),
    ("(201) 555-0123 #345", "US", "has an extension (345)"),
    ("1-800-FLOWERS", "US", "holds letters; write the number's digits (as digits: 1-800-3569377)"),
    ("+1 800 FLOWERS", "", "holds letters"),
    ("tel. 040 123 4567", "FI", "holds letters; write the number's digits"),
    ("040 123 4567 (mobile)", "FI", "holds letters"),
    ("040:123 4567", "FI", "holds ':', which is not part of a phone number"),
    ("040_123_4567", "FI", "holds '_', which is not part of a phone number"),
    ("040+1234567", "FI", "has a '+' inside"),
    ("040*1234567", "FI", "holds '*', which is not part of a phone number"),
    ("*abc#", "", "is not a service code"),
    ("+999 123 4567", "", "has no valid country code"),
    ("00999 123 4567", "FI", "has no valid country code"),
    ("+", "FI", "has no number after the international prefix"),
    ("00", "", "has no number after the international prefix"),
    ("+358 12", "", "is too short for FI (+358)"),
    # too short numbers that begin with the trunk prefix: phonenumbers keeps the 0, which is never dialled after
    # the country code (+35809555 would never match the real number)
    ("09 555", "FI", "is too short for FI (+358)"),
    ("040 12", "FI", "is too short for FI (+358)"),
    ("020 7946", "GB", "is too short for GB (+44)"),
    ("+358 09555", "", "is too short for FI (+358)"),
    ("12", "FI", "is too short for FI (+358)"),
    ("1234", "FI", "is too short for FI (+358)"),
    ("12", "", "is too short: a phone number has at least 3 digits"),
    ("+358 40 123 4567 8901 23", "", "is too long for FI (+358)"),
    ("+1 (0) 212 555 0100", "", "is too long for US (+1)"),
    ("0401234567 0507654321", "FI", "is too long"),
    ("04012345670507654321", "", "is too long: a national phone number has at most 17 digits"),
    ("555 0123", "US", "is a local number in US (+1): write it with its area code"),
    ("+4930 1", "", "is too short for DE (+49)"),  # with a country code: never a local number
    ("+800 12", "", "is too short for +800"),
    ("+46 12 34", "", "SE (+46)"),
]


@pytest.mark.parametrize(("text", "region", "stored"), ACCEPTED)
def test_written_forms_are_stored_in_one_form(text: str, region: str, stored: str) -> None:
    assert normalise_phone(text, region) == stored
    assert normalise_phone(stored, region) == stored  # the stored form reads back as itself (re-import: unchanged)


@pytest.mark.parametrize(("text", "region", "reason"), REJECTED)
def test_a_cell_that_is_not_one_phone_number_is_rejected_with_its_reason(text: str, region: str, reason: str) -> None:
    with pytest.raises(PhoneError) as caught:
        normalise_phone(text, region)
    assert reason in str(caught.value)
    assert str(caught.value).startswith(repr(text))  # the reason names the cell's value


def test_every_written_form_of_one_number_is_the_same_stored_number() -> None:
    """What makes a blocked number block a customer however either was written."""
    forms = ["+358 50 765 4321", "050 765 4321", "00358507654321", "+358 (0)50 765 4321", "050-765 4321",
             "(050) 7654321", "+358507654321", "00358 (0)50 765 43 21", "+3580507654321"]
    assert {normalise_phone(f, "FI") for f in forms} == {"+358507654321"}


def test_a_long_value_is_shortened_in_the_reason() -> None:
    with pytest.raises(PhoneError) as caught:
        normalise_phone("1" * 30 + " / " + "2" * 30 + "x" * 100, "FI")
    assert "characters)" in str(caught.value) and len(str(caught.value)) < 200


def test_an_unknown_region_is_a_configuration_error_not_a_rejected_cell() -> None:
    with pytest.raises(ValueError, match="unknown phone region 'XX'") as caught:
        normalise_phone("040 123 4567", "XX")
    assert not isinstance(caught.value, PhoneError)


# (number cell, phone_region, stored form): the spreadsheet dropped the leading 0 or +
FROM_NUMBERS = [
    (401234567, "FI", "+358401234567"),  # 040 123 4567 without its 0
    (358401234567, "FI", "+358401234567"),  # +358 40 123 4567 without its +
    (507654321, "FI", "+358507654321"),
    (701234567, "SE", "+46701234567"),
    (46701234567, "SE", "+46701234567"),
    (3012345678, "DE", "+493012345678"),
    (493012345678, "DE", "+493012345678"),
    (2079460958, "GB", "+442079460958"),
    (442079460958, "GB", "+442079460958"),
    (2015550123, "US", "+12015550123"),
    (12015550123, "US", "+12015550123"),
    (612345678, "IT", "+390612345678"),  # Italy's leading 0 restored
    (112, "FI", "112"),  # not a national number: read as text (a short number)
    (401234567, "", "401234567"),  # no region: the digits as they are
    (358401234567, "", "358401234567"),
]


@pytest.mark.parametrize(("number", "region", "stored"), FROM_NUMBERS)
def test_a_phone_from_a_number_cell(number: int, region: str, stored: str) -> None:
    assert phone_from_number(number, region) == stored


@pytest.mark.parametrize(("number", "region", "reason"), [
    (12, "FI", "'12' is too short for FI (+358)"),
    (12, "", "'12' is too short"),
    (123456789012345678, "FI", "is not a phone number (a whole number of at most 15 digits)"),
    (-401234567, "FI", "is not a phone number"),
])
def test_a_number_cell_that_is_no_phone_number(number: int, region: str, reason: str) -> None:
    with pytest.raises(PhoneError, match=reason.replace("(", r"\(").replace(")", r"\)").replace("+", r"\+")):
        phone_from_number(number, region)


def test_is_national() -> None:
    assert not is_national("+358401234567")
    assert is_national("0401234567")
    assert is_national("112")
    assert is_national("*100#")


def test_normalising_many_numbers_is_fast() -> None:
    """200,000 distinct numbers (a large campaign file) in well under the time the file takes to read."""
    start = time.perf_counter()
    for i in range(20_000):
        normalise_phone(f"040 {1000000 + i}", "FI")
    first = time.perf_counter() - start
    start = time.perf_counter()
    for i in range(20_000):
        normalise_phone(f"040 {1000000 + i}", "FI")
    again = time.perf_counter() - start
    assert first < 5.0  # about 30 µs a number; generous for a shared machine
    assert again < first / 3  # the same numbers again (a re-import, the blocked list): from the cache


def test_the_fast_path_for_plain_international_numbers_agrees_with_the_full_path() -> None:
    """``plain_international`` (+ or 00 and digits: the common case, about six times faster) gives exactly what the
    full path (phonenumbers.parse, is_possible_number_with_reason, format_number) gives, or leaves the cell to it:
    every country code, every national length 1-17, several random numbers each, with spaces and 00 as written."""
    import random

    from phonenumbers import COUNTRY_CODE_TO_REGION_CODE

    rnd = random.Random(25)
    taken = compared = 0
    for cc in sorted(COUNTRY_CODE_TO_REGION_CODE):
        for length in range(1, 18):
            for _ in range(4):
                nsn = "".join(rnd.choice("0123456789") for _ in range(length))
                for text in (f"+{cc}{nsn}", f"00{cc} {nsn[:3]} {nsn[3:]}".strip(), f"+{cc}-{nsn}"):
                    fast = phones.plain_international(text)
                    try:
                        full: str | None = phones._one_cell(text, "")
                    except phones.PhoneError:
                        full = None
                    compared += 1
                    if fast is not None:
                        taken += 1
                        assert fast == full, (text, fast, full)
    assert taken > 5000, (taken, compared)  # the fast path does take the common case (6,879 of 43,860)


def test_a_canonical_column_is_exactly_what_the_fast_path_takes_unchanged() -> None:
    """``canonical_column`` (one regular expression over a whole column) says yes only for cells that
    ``plain_international`` returns unchanged (it may say no to some of those: a country whose trunk prefix rule
    can match nothing, Argentina's, is left to the cell-by-cell path): every country code, lengths 1-17."""
    import random

    from phonenumbers import COUNTRY_CODE_TO_REGION_CODE

    rnd = random.Random(30)
    yes = 0
    for cc in sorted(COUNTRY_CODE_TO_REGION_CODE):
        column: list[str] = []
        for length in range(1, 18):
            for _ in range(4):
                cell = f"+{cc}" + "".join(rnd.choice("0123456789") for _ in range(length))
                unchanged = phones.plain_international(cell) == cell
                if phones.canonical_column([cell]):  # never a cell the fast path would change or refuse
                    assert unchanged, cell
                    yes += 1
                    column.append(cell)
        if column:
            assert phones.canonical_column(column)
            assert not phones.canonical_column([*column, f"+{cc} 1234567"])  # a space: cell by cell
            assert not phones.canonical_column([*column, "0401234567"])
    assert yes > 2000, yes  # 2,136 of the fast path's cells
