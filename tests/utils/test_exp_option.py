"""The shared ``--exp`` option of every main: one spelling, the old one still accepted."""

import pytest

from glowtts.bin import decode, export, extract_durations, tokenize, train, train_duration
from glowtts.utils import add_exp_option, command_parser

PARSERS = [
    (decode.get_parser, ["--token", "t", "--out_dir", "o"]),
    (extract_durations.get_parser, ["--data_dir", "d", "--out_dir", "o"]),
    (train_duration.get_parser, ["--train_dir", "d", "--train_durations", "f"]),
    (train.build_parser, ["--config", "c", "--train_dir", "d", "--token_list", "t"]),
    (export.get_parser, ["--out", "o"]),
    (tokenize.get_parser, []),
]


@pytest.mark.parametrize("make, rest", PARSERS)
def test_exp_and_its_deprecated_spelling_parse_alike(make, rest, capsys):
    new = make().parse_args(["--exp", "exp/a", *rest])
    assert new.exp == "exp/a"
    assert "deprecated" not in capsys.readouterr().err
    old = make().parse_args(["--exp_dir", "exp/a", *rest])
    assert vars(old) == vars(new)
    err = capsys.readouterr().err
    assert "--exp_dir is deprecated, use --exp" in err


def test_exp_is_required_unless_said_otherwise(capsys):
    p = command_parser("glowtts-x", None)
    add_exp_option(p)
    with pytest.raises(SystemExit):
        p.parse_args([])
    assert "--exp" in capsys.readouterr().err
    q = command_parser("glowtts-y", None)
    add_exp_option(q, required=False, dest="exp_dir")
    assert q.parse_args([]).exp_dir is None
    assert q.parse_args(["--exp", "e"]).exp_dir == "e"


def test_synthesis_mains_default_to_device_auto():
    assert (
        decode.get_parser().parse_args(["--exp", "e", "--token", "t", "--out_dir", "o"]).device
        == "auto"
    )
    args = extract_durations.get_parser().parse_args(
        ["--exp", "e", "--data_dir", "d", "--out_dir", "o"]
    )
    assert args.device == "auto"
    # decode's noise is seeded by default: two runs agree unless --seed says otherwise
    assert (
        decode.get_parser().parse_args(["--exp", "e", "--token", "t", "--out_dir", "o"]).seed == 0
    )


def _make_exp():
    """tests/synthesis/conftest.py's tiny experiment writer (loaded by path: two conftests)."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "synthesis" / "conftest.py"
    spec = importlib.util.spec_from_file_location("synthesis_conftest", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.make_exp


@pytest.mark.parametrize("n_speakers", [0, 3])
def test_export_lists_speakers_without_out(tmp_path, capsys, n_speakers):
    exp = _make_exp()(tmp_path / "exp", n_speakers=n_speakers)
    if n_speakers:
        (exp / "spk_list.txt").write_text("a\nb\nc\n")
    assert export.main(["--exp", str(exp), "--list_speakers"]) is None
    out = capsys.readouterr().out.split("\n")
    assert out[:-1] == (["a", "b", "c"] if n_speakers else ["(single speaker)"])
    with pytest.raises(SystemExit):
        export.main(["--exp", str(exp)])  # exporting still needs --out
    assert "--out" in capsys.readouterr().err
