"""Tests of the corpus loaders and fetchers, on small fake corpora synthesised into tmp_path."""

import functools
import hashlib
import http.server
import os
import threading
import warnings
import zipfile
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from sklearn_ser.datasets import (
    fetch_emodb,
    fetch_ravdess,
    get_data_home,
    load_cremad,
    load_emodb,
    load_folder,
    load_ravdess,
    load_tess,
    make_emotional_speech,
)
from sklearn_ser.exceptions import DataWarning

# Read before the autouse fixture below clears the variable for the other tests.
REAL_EMODB = os.environ.get("SKLEARN_SER_EMODB", "")


def write_tone(path, *, sr=16000, seconds=0.1, channels=1):
    """Write a short sine (a different pitch per file name) and return the path as str."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(sr * seconds)) / sr
    y = 0.3 * np.sin(2 * np.pi * (200 + len(path.name) * 10) * t)
    sf.write(path, np.repeat(y[:, None], channels, axis=1) if channels > 1 else y, sr)
    return str(path)


def make_tree(root, names, **kwargs):
    """Write a tone at each relative path in ``names`` under ``root``."""
    return [write_tone(Path(root) / name, **kwargs) for name in names]


def skipped_files(record):
    """Base names of the files that DataWarnings in ``record`` say were skipped."""
    return sorted(
        Path(str(w.message).split("'")[1]).name
        for w in record
        if issubclass(w.category, DataWarning) and str(w.message).startswith("Skipped '")
    )


@pytest.fixture(autouse=True)
def isolated_data_home(tmp_path, monkeypatch):
    """Keep the real environment and ~/sklearn_ser_data out of every test."""
    for var in ("SKLEARN_SER_EMODB", "SKLEARN_SER_RAVDESS", "SKLEARN_SER_TESS",
                "SKLEARN_SER_CREMAD"):
        monkeypatch.delenv(var, raising=False)
    home = tmp_path / "data_home"
    monkeypatch.setenv("SKLEARN_SER_DATA", str(home))
    return home


def check_bunch(bunch, n_files):
    assert set(bunch) >= {"data", "target", "target_names", "groups", "frame", "sr", "DESCR"}
    assert len(bunch.data) == len(bunch.target) == len(bunch.groups) == len(bunch.frame) == n_files
    assert list(bunch.frame.columns[:4]) == ["path", "emotion", "speaker", "gender"]
    assert list(bunch.frame["emotion"]) == list(bunch.target)
    assert list(bunch.frame["speaker"]) == list(bunch.groups)
    if isinstance(bunch.data[0], str):
        assert bunch.data == list(bunch.frame["path"])
        assert all(os.path.isabs(p) for p in bunch.data)


# ---------------------------------------------------------------------------- EmoDB

EMODB_NAMES = ["wav/03a01Fa.wav", "wav/08b02Wb.wav", "wav/16a05Nc.wav", "wav/10a07Lb.wav"]


def test_load_emodb_parses_names(tmp_path):
    root = tmp_path / "emodb"
    make_tree(root, EMODB_NAMES)
    (root / "erklaerung.txt").write_text("not audio")
    (root / "wav" / "notes.csv").write_text("a,b")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # non-audio files are ignored silently
        bunch = load_emodb(root)
    check_bunch(bunch, 4)
    assert [Path(p).name for p in bunch.data] == sorted(Path(n).name for n in EMODB_NAMES)
    assert list(bunch.target) == ["happiness", "anger", "boredom", "neutral"]
    assert list(bunch.groups) == ["emodb:03", "emodb:08", "emodb:10", "emodb:16"]
    assert list(bunch.frame["gender"]) == ["male", "female", "male", "female"]
    assert list(bunch.frame["text"]) == ["a01", "b02", "a07", "a05"]
    assert list(bunch.frame["version"]) == ["a", "b", "b", "c"]
    assert list(bunch.target_names) == ["anger", "boredom", "happiness", "neutral"]
    assert bunch.sr == 16000 and "Burkhardt" in bunch.DESCR and "4 files" in bunch.DESCR


def test_load_emodb_root_or_wav_folder(tmp_path):
    root = tmp_path / "emodb"
    make_tree(root, EMODB_NAMES)
    assert load_emodb(root).data == load_emodb(root / "wav").data
    assert load_emodb(str(root)).data == load_emodb(root).data


def test_load_emodb_quirks(tmp_path):
    root = tmp_path / "emodb" / "wav"
    make_tree(root, ["03a01Fa.wav", "misnamed.wav", "03a01Xa.wav", "17a01Fa.wav"])
    write_tone(root / "09a01Aa.wav", channels=2)  # stereo: fine
    write_tone(root / "10a01Ta.wav", sr=44100)  # another rate: fine
    (root / "03a02Fa.wav").write_bytes(b"")  # empty
    (root / "03a04Fa.wav").write_bytes(b"not a wav file at all" * 10)  # corrupt
    write_tone(root / "03a05Fa.wav", seconds=0)  # a header and no frames
    with pytest.warns(DataWarning) as record:
        bunch = load_emodb(root)
    assert skipped_files(record) == sorted(
        ["misnamed.wav", "03a01Xa.wav", "17a01Fa.wav", "03a02Fa.wav", "03a04Fa.wav",
         "03a05Fa.wav"]
    )
    reasons = " ".join(str(w.message) for w in record)
    for reason in ("pattern", "emotion code 'X'", "speaker '17'", "empty (0 bytes)",
                   "header cannot be read", "no audio frames"):
        assert reason in reasons
    assert [Path(p).name for p in bunch.data] == ["03a01Fa.wav", "09a01Aa.wav", "10a01Ta.wav"]
    assert list(bunch.frame["channels"]) == [1, 2, 1]
    assert list(bunch.frame["native_sr"]) == [16000, 16000, 44100]

    with pytest.warns(DataWarning):
        clips = load_emodb(root, return_clips=True, sr=8000)
    assert clips.sr == 8000
    assert [c.shape for c in clips.data] == [(800,), (800,), (800,)]
    assert all(c.dtype == np.float32 for c in clips.data)


def test_load_emodb_return_clips_sr_none(tmp_path):
    root = tmp_path / "emodb"
    make_tree(root, EMODB_NAMES[:2], sr=22050)
    bunch = load_emodb(root, return_clips=True, sr=None, n_jobs=2)
    assert bunch.sr == 22050 and [len(c) for c in bunch.data] == [2205, 2205]


def test_load_emodb_data_dir_resolution(tmp_path, monkeypatch, isolated_data_home):
    with pytest.raises(FileNotFoundError, match="data_dir.*SKLEARN_SER_EMODB.*fetch_emodb"):
        load_emodb()
    cached = isolated_data_home / "emodb"
    make_tree(cached, EMODB_NAMES[:1])
    assert len(load_emodb().data) == 1
    elsewhere = tmp_path / "elsewhere"
    make_tree(elsewhere, EMODB_NAMES)
    monkeypatch.setenv("SKLEARN_SER_EMODB", str(elsewhere))
    assert len(load_emodb().data) == 4
    monkeypatch.setenv("SKLEARN_SER_EMODB", str(tmp_path / "gone"))
    with pytest.raises(FileNotFoundError, match="gone.*SKLEARN_SER_EMODB"):
        load_emodb()
    with pytest.raises(FileNotFoundError, match="nowhere"):
        load_emodb(tmp_path / "nowhere")


def test_load_emodb_no_usable_file(tmp_path):
    root = tmp_path / "emodb"
    make_tree(root, ["junk.wav"])
    with pytest.warns(DataWarning), pytest.raises(FileNotFoundError, match=str(root)):
        load_emodb(root)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FileNotFoundError, match="No usable"):
        load_emodb(empty)  # a folder with no audio at all


@pytest.mark.parametrize("kwargs, error", [({"sr": 0}, ValueError), ({"return_clips": 1}, TypeError)])
def test_loader_bad_arguments(tmp_path, kwargs, error):
    make_tree(tmp_path, EMODB_NAMES[:1])
    with pytest.raises(error):
        load_emodb(tmp_path, **kwargs)


@pytest.mark.emodb
def test_load_emodb_real_corpus():
    if not os.path.isdir(REAL_EMODB):
        pytest.skip("EmoDB not found: set SKLEARN_SER_EMODB to its folder")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the real corpus has no file to skip
        bunch = load_emodb(REAL_EMODB)
    check_bunch(bunch, 535)
    assert len(set(bunch.groups)) == 10
    # W127 L81 E46 A69 F71 T62 N79
    assert dict(Counter(bunch.target)) == {
        "anger": 127, "boredom": 81, "disgust": 46, "fear": 69, "happiness": 71,
        "sadness": 62, "neutral": 79,
    }
    speakers_per_gender = bunch.frame.groupby("gender")["speaker"].nunique().to_dict()
    assert speakers_per_gender == {"female": 5, "male": 5}
    assert set(bunch.frame["native_sr"]) == {16000}


# ---------------------------------------------------------------------------- RAVDESS

RAVDESS_NAMES = [
    "Actor_12/03-01-05-01-02-01-12.wav",  # speech, anger, normal, "Dogs", rep 1, female
    "Actor_01/03-02-03-02-01-02-01.wav",  # song, happiness, strong, "Kids", rep 2, male
    "Actor_01/03-01-02-02-01-01-01.wav",  # speech, calm
    "Actor_24/03-01-08-02-02-02-24.wav",  # speech, surprise
]


def test_load_ravdess_parses_names(tmp_path):
    make_tree(tmp_path, RAVDESS_NAMES)
    bunch = load_ravdess(tmp_path)
    check_bunch(bunch, 3)
    frame = bunch.frame.set_index(bunch.frame["path"].map(lambda p: Path(p).name))
    row = frame.loc["03-01-05-01-02-01-12.wav"]
    assert row["emotion"] == "anger" and row["speaker"] == "ravdess:12"
    assert row["gender"] == "female" and row["actor"] == 12
    assert row["intensity"] == "normal" and row["statement"] == "Dogs are sitting by the door"
    assert row["repetition"] == 1 and row["vocal_channel"] == "speech"
    assert row["modality"] == "audio-only"
    assert frame.loc["03-01-02-02-01-01-01.wav", "gender"] == "male"
    assert sorted(bunch.target) == ["anger", "calm", "surprise"]
    assert "Livingstone" in bunch.DESCR


def test_load_ravdess_vocal_channel(tmp_path):
    make_tree(tmp_path, RAVDESS_NAMES)
    song = load_ravdess(tmp_path, vocal_channel="song")
    assert list(song.target) == ["happiness"] and list(song.frame["intensity"]) == ["strong"]
    assert len(load_ravdess(tmp_path, vocal_channel="all").data) == 4
    with pytest.raises(ValueError, match="vocal_channel"):
        load_ravdess(tmp_path, vocal_channel="both")


def test_load_ravdess_quirks(tmp_path):
    make_tree(tmp_path, RAVDESS_NAMES[:1] + [
        "01-01-01-01-01-01-03.wav",  # audio-video modality
        "03-01-09-01-01-01-02.wav",  # emotion 09
        "03-01-01-01-01-01-25.wav",  # actor 25
        "03-01-01-01-01-01.wav",  # six fields
    ])
    (tmp_path / "03-01-04-01-01-01-02.wav").write_bytes(b"")
    with pytest.warns(DataWarning) as record:
        bunch = load_ravdess(tmp_path)
    assert skipped_files(record) == sorted([
        "01-01-01-01-01-01-03.wav", "03-01-09-01-01-01-02.wav", "03-01-01-01-01-01-25.wav",
        "03-01-01-01-01-01.wav", "03-01-04-01-01-01-02.wav",
    ])
    assert len(bunch.data) == 1


def test_load_ravdess_takes_the_actor_from_its_folder(tmp_path):
    make_tree(tmp_path, RAVDESS_NAMES[:1] + [
        "Actor_05/03-01-05-01-01-01-06.wav",  # the name says actor 06, the folder 05
        "Actor_07/03-01-05-01-01-01-25.wav",  # an actor that does not exist
    ])
    with pytest.warns(DataWarning) as record:
        bunch = load_ravdess(tmp_path)
    assert skipped_files(record) == []
    actors = dict(zip((Path(p).name for p in bunch.data), bunch.groups))
    assert actors["03-01-05-01-01-01-06.wav"] == "ravdess:05"
    assert actors["03-01-05-01-01-01-25.wav"] == "ravdess:07"
    [message] = [str(w.message) for w in record]
    assert message.startswith("2 file name(s) disagree")
    assert "03-01-05-01-01-01-06.wav' (actor 06 in the name, 05 in the folder)" in message


# ---------------------------------------------------------------------------- TESS

TESS_NAMES = [
    "OAF_angry/OAF_back_angry.wav",
    "YAF_pleasant_surprised/YAF_bean_ps.wav",
    "OAF_Fear/OAF_dog_fear.wav",
    "YAF_sad/YAF_chair_sad.wav",
    "OAF_happy/OAF_youth.wav",  # no emotion in the name: the folder gives it
    "OAF_Pleasant_surprise/OAF_red_pleasant_surprise.wav",
]


def test_load_tess_parses_names(tmp_path):
    make_tree(tmp_path, TESS_NAMES)
    with pytest.warns(DataWarning, match=r"OAF_youth.wav' \(no emotion in the name"):
        bunch = load_tess(tmp_path)
    check_bunch(bunch, 6)
    by_name = dict(zip((Path(p).name for p in bunch.data), zip(bunch.target, bunch.frame["word"])))
    assert by_name == {
        "OAF_back_angry.wav": ("anger", "back"),
        "YAF_bean_ps.wav": ("surprise", "bean"),
        "OAF_dog_fear.wav": ("fear", "dog"),
        "YAF_chair_sad.wav": ("sadness", "chair"),
        "OAF_youth.wav": ("happiness", "youth"),
        "OAF_red_pleasant_surprise.wav": ("surprise", "red"),
    }
    assert set(bunch.groups) == {"tess:OAF", "tess:YAF"}
    assert set(bunch.frame["gender"]) == {"female"}
    assert set(bunch.frame["age"]) == {26, 64}


def test_load_tess_quirks(tmp_path):
    make_tree(tmp_path, TESS_NAMES[:1] + [
        "XYZ_angry/XYZ_back_angry.wav",  # unknown speaker
        "misc/OAF_back_bored.wav",  # no TESS emotion, in the name or the folder
        "OAF_angry/OAF_angry.wav",  # no word
    ])
    with pytest.warns(DataWarning) as record:
        bunch = load_tess(tmp_path)
    assert skipped_files(record) == sorted(
        ["XYZ_back_angry.wav", "OAF_back_bored.wav", "OAF_angry.wav"]
    )
    assert len(bunch.data) == 1


def test_load_tess_takes_labels_from_the_folder_when_the_name_disagrees(tmp_path):
    make_tree(tmp_path, [
        "OAF_neutral/OAF_back_neutral.wav",
        "OAF_neutral/OA_bite_neutral.wav",  # as in the real corpus: a mangled speaker
        "YAF_fear/YAF_dog_angry.wav",  # the name's emotion disagrees with the folder's
        "YAF_sad/OAF_chair_sad.wav",  # the name's speaker disagrees with the folder's
        "OAF_happy/OAF_youth.wav",  # no emotion in the name
    ])
    with pytest.warns(DataWarning) as record:
        bunch = load_tess(tmp_path)
    assert skipped_files(record) == []
    labels = {Path(p).name: (g, e, w) for p, g, e, w in
              zip(bunch.data, bunch.groups, bunch.target, bunch.frame["word"])}
    assert labels == {
        "OAF_back_neutral.wav": ("tess:OAF", "neutral", "back"),
        "OA_bite_neutral.wav": ("tess:OAF", "neutral", "bite"),
        "YAF_dog_angry.wav": ("tess:YAF", "fear", "dog"),
        "OAF_chair_sad.wav": ("tess:YAF", "sadness", "chair"),
        "OAF_youth.wav": ("tess:OAF", "happiness", "youth"),
    }
    # One warning names every relabelled file, with how its name differs.
    [message] = [str(w.message) for w in record]
    assert message.startswith("4 file name(s) disagree")
    for text in ("OA_bite_neutral.wav' (speaker 'OA' in the name, OAF in the folder)",
                 "YAF_dog_angry.wav' (emotion anger in the name, fear in the folder)",
                 "OAF_chair_sad.wav' (speaker 'OAF' in the name, YAF in the folder)",
                 "OAF_youth.wav' (no emotion in the name, happiness in the folder)"):
        assert text in message


def test_relabelled_files_are_counted_past_the_tenth(tmp_path):
    make_tree(tmp_path, [f"OAF_neutral/OA_w{i}_neutral.wav" for i in range(12)])
    with pytest.warns(DataWarning, match=r"12 file name\(s\).*; and 2 more\."):
        assert len(load_tess(tmp_path).data) == 12


# ---------------------------------------------------------------------------- CREMA-D

CREMAD_NAMES = ["AudioWAV/1001_DFA_ANG_XX.wav", "AudioWAV/1002_IEO_HAP_HI.wav",
                "AudioWAV/1091_TSI_SAD_LO.wav"]


def test_load_cremad_with_demographics(tmp_path):
    make_tree(tmp_path, CREMAD_NAMES)
    (tmp_path / "VideoDemographics.csv").write_text(
        "ActorID,Age,Sex,Race,Ethnicity\n"
        "1001,51,Male,Caucasian,Not Hispanic\n"
        "1002,21,Female,Caucasian,Not Hispanic\n"
    )
    bunch = load_cremad(tmp_path / "AudioWAV")  # the table sits in the parent folder
    check_bunch(bunch, 3)
    assert list(bunch.target) == ["anger", "happiness", "sadness"]
    assert list(bunch.groups) == ["cremad:1001", "cremad:1002", "cremad:1091"]
    assert list(bunch.frame["gender"]) == ["male", "female", "unknown"]
    assert list(bunch.frame["intensity"]) == ["unspecified", "high", "low"]
    assert list(bunch.frame["sentence"]) == ["DFA", "IEO", "TSI"]
    assert bunch.frame.loc[0, "text"] == "Don't forget a jacket"
    assert bunch.frame.loc[0, "age"] == 51
    assert "Cao" in bunch.DESCR


def test_load_cremad_without_demographics_and_quirks(tmp_path):
    make_tree(tmp_path, CREMAD_NAMES + ["AudioWAV/1001_DFA_SUR_XX.wav",
                                        "AudioWAV/1001_ABC_ANG_XX.wav",
                                        "AudioWAV/1001_DFA_ANG_ZZ.wav",
                                        "AudioWAV/1001-DFA-ANG-XX.wav"])
    (tmp_path / "AudioWAV" / "1076_MTI_SAD_XX.wav").write_bytes(b"")
    with pytest.warns(DataWarning) as record:
        bunch = load_cremad(tmp_path)
    assert skipped_files(record) == sorted([
        "1001_DFA_SUR_XX.wav", "1001_ABC_ANG_XX.wav", "1001_DFA_ANG_ZZ.wav",
        "1001-DFA-ANG-XX.wav", "1076_MTI_SAD_XX.wav",
    ])
    assert len(bunch.data) == 3 and set(bunch.frame["gender"]) == {"unknown"}


def test_load_cremad_bad_demographics_table(tmp_path):
    make_tree(tmp_path, CREMAD_NAMES[:1])
    (tmp_path / "AudioWAV" / "VideoDemographics.csv").write_text("Actor,Sex\n1001,Male\n")
    with pytest.warns(DataWarning, match="VideoDemographics.csv.*lacks the columns"):
        bunch = load_cremad(tmp_path / "AudioWAV")
    assert list(bunch.frame["gender"]) == ["unknown"]


# ---------------------------------------------------------------------------- load_folder


def test_load_folder_labels_from_subfolders(tmp_path):
    make_tree(tmp_path, ["angry/a.wav", "happy/session1/b.flac", "Excited/c.wav", "W/d.wav"])
    write_tone(tmp_path / "loose.wav")
    (tmp_path / "README.txt").write_text("notes")
    with pytest.warns(DataWarning) as record:
        bunch = load_folder(tmp_path)
    assert skipped_files(record) == ["loose.wav"]
    messages = " ".join(str(w.message) for w in record)
    assert "speaker" in messages and "folder:unknown" in messages
    check_bunch(bunch, 4)
    assert list(bunch.target) == ["Excited", "anger", "anger", "happiness"]
    assert list(bunch.frame["label"]) == ["Excited", "W", "angry", "happy"]
    assert set(bunch.groups) == {"folder:unknown"}


def test_load_folder_csv(tmp_path):
    make_tree(tmp_path / "audio", ["one.wav", "two.wav", "three.wav"])
    absolute = write_tone(tmp_path / "elsewhere" / "four.wav")
    (tmp_path / "audio" / "labels.csv").write_text(
        "Path,Label,Speaker\n"
        "three.wav,fearful,spk2\n"
        "one.wav,ANG,spk1\n"
        f"{absolute},frustrated,spk1\n"
        "missing.wav,sad,spk3\n"
        ",sad,spk3\n"
        "one.wav,happy,spk1\n"
    )
    with pytest.warns(DataWarning) as record:
        bunch = load_folder(tmp_path / "audio", csv="labels.csv")
    messages = " ".join(str(w.message) for w in record)
    assert "missing.wav" in messages and "line 6" in messages and "listed twice" in messages
    assert "no speaker" not in messages
    check_bunch(bunch, 3)
    assert [Path(p).name for p in bunch.data] == ["three.wav", "one.wav", "four.wav"]
    assert list(bunch.target) == ["fear", "anger", "frustrated"]
    assert list(bunch.groups) == ["folder:spk2", "folder:spk1", "folder:spk1"]


def test_load_folder_csv_without_speaker_and_bad_tables(tmp_path):
    make_tree(tmp_path, ["a.wav"])
    (tmp_path / "labels.csv").write_text("path,label\na.wav,joy\n")
    with pytest.warns(DataWarning, match="speaker"):
        bunch = load_folder(None, csv=tmp_path / "labels.csv")
    assert list(bunch.target) == ["happiness"] and list(bunch.groups) == ["folder:unknown"]
    (tmp_path / "bad.csv").write_text("file,emotion\na.wav,joy\n")
    with pytest.raises(ValueError, match=r"bad\.csv.*\['path', 'label'\]"):
        load_folder(tmp_path, csv="bad.csv")
    with pytest.raises(FileNotFoundError, match="absent.csv"):
        load_folder(tmp_path, csv="absent.csv")
    with pytest.raises(FileNotFoundError, match="nowhere"):
        load_folder(tmp_path / "nowhere")


def test_load_folder_return_clips(tmp_path):
    make_tree(tmp_path, ["sad/a.wav", "calm/b.wav"], sr=8000)
    with pytest.warns(DataWarning, match="speaker"):
        bunch = load_folder(tmp_path, return_clips=True, sr=16000)
    assert [c.shape for c in bunch.data] == [(1600,), (1600,)]
    assert list(bunch.target) == ["calm", "sadness"]


# ---------------------------------------------------------------------------- fetch


class CountingHandler(http.server.SimpleHTTPRequestHandler):
    """Serve files from a folder and count the GET requests."""

    requests = []

    def do_GET(self):  # noqa: N802 - the name http.server calls
        type(self).requests.append(self.path)
        super().do_GET()

    def log_message(self, *args):
        pass  # keep test output clean


@pytest.fixture
def server(tmp_path):
    """A local HTTP server on 127.0.0.1 serving tmp_path/served; yields (base_url, folder)."""
    served = tmp_path / "served"
    served.mkdir()
    handler = type("Handler", (CountingHandler,), {"requests": []})
    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(handler, directory=str(served))
    )
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", served, handler.requests
    finally:
        httpd.shutdown()
        httpd.server_close()


def make_zip(zip_path, tree, names, members=None):
    """Write ``names`` as tones under ``tree`` and zip them (with extra raw ``members``)."""
    make_tree(tree, names)
    with zipfile.ZipFile(zip_path, "w") as zf:
        for name in names:
            zf.write(Path(tree) / name, name)
        for name, content in (members or {}).items():
            zf.writestr(name, content)
    return hashlib.sha256(Path(zip_path).read_bytes()).hexdigest()


def test_fetch_emodb_downloads_once(tmp_path, server, isolated_data_home):
    base, served, requests = server
    digest = make_zip(served / "download.zip", tmp_path / "src", EMODB_NAMES,
                      {"erklaerung.txt": "readme"})
    url = f"{base}/download.zip"
    bunch = fetch_emodb(url=url, sha256=digest.upper())
    check_bunch(bunch, 4)
    assert len(requests) == 1
    again = fetch_emodb(url=url, sha256=digest, return_clips=True)
    assert len(requests) == 1 and len(again.data) == 4 and again.data[0].dtype == np.float32
    cache = Path(get_data_home()) / "emodb"
    assert cache.parent == isolated_data_home
    assert not [p for p in cache.iterdir() if p.name.startswith(".")]  # no leftovers
    assert len(load_emodb().data) == 4  # the cache is where load_emodb looks by default
    assert fetch_emodb(url=url, download_if_missing=False).data == bunch.data


def test_fetch_sha256_mismatch(tmp_path, server):
    base, served, _ = server
    digest = make_zip(served / "download.zip", tmp_path / "src", EMODB_NAMES)
    url = f"{base}/download.zip"
    with pytest.raises(OSError, match=f"{url}.*{digest}.*{'0' * 64}"):
        fetch_emodb(tmp_path / "home", url=url, sha256="0" * 64)
    assert not any((tmp_path / "home" / "emodb").iterdir())  # nothing half-written


def test_fetch_network_errors(tmp_path, server):
    base, _, _ = server
    url = f"{base}/absent.zip"
    with pytest.raises(ConnectionError, match=f"{url}.*data_dir"):
        fetch_emodb(tmp_path / "home", url=url)
    with pytest.raises(FileNotFoundError, match="download_if_missing"):
        fetch_emodb(tmp_path / "home", url=url, download_if_missing=False)
    (Path(server[1]) / "notzip.zip").write_bytes(b"hello")
    with pytest.raises(OSError, match="not a valid zip"):
        fetch_emodb(tmp_path / "home", url=f"{base}/notzip.zip")
    assert not any((tmp_path / "home" / "emodb").iterdir())


def test_fetch_rejects_escaping_members(tmp_path, server):
    base, served, _ = server
    make_zip(served / "evil.zip", tmp_path / "src", EMODB_NAMES[:1],
             {"../../escaped.txt": "gotcha"})
    with pytest.raises(ValueError, match="escaped.txt.*outside"):
        fetch_emodb(tmp_path / "home", url=f"{base}/evil.zip")
    assert not (tmp_path / "escaped.txt").exists()
    assert not any((tmp_path / "home" / "emodb").iterdir())


def test_fetch_ravdess(tmp_path, server):
    base, served, requests = server
    make_zip(served / "Audio_Speech_Actors_01-24.zip", tmp_path / "src", RAVDESS_NAMES)
    url = f"{base}/Audio_Speech_Actors_01-24.zip"
    bunch = fetch_ravdess(tmp_path / "home", url=url, vocal_channel="all")
    assert len(bunch.data) == 4 and len(requests) == 1
    assert (tmp_path / "home" / "ravdess" / "Audio_Speech_Actors_01-24" / "Actor_12").is_dir()
    assert len(fetch_ravdess(tmp_path / "home", url=url).data) == 3 and len(requests) == 1


# ---------------------------------------------------------------------------- detection


def test_detect_corpus_from_file_names(tmp_path):
    from sklearn_ser.datasets._detect import detect_corpus

    layouts = {
        "emodb": ["wav/03a01Fa.wav", "wav/08b02Wb.wav"],
        "ravdess": RAVDESS_NAMES,
        "tess": TESS_NAMES,
        "cremad": CREMAD_NAMES,
        None: ["angry/a.wav", "calm/b.wav"],
    }
    for name, files in layouts.items():
        root = tmp_path / str(name)
        make_tree(root, files)
        assert detect_corpus(root) == (name, len(files) if name else 0, len(files))
    make_tree(tmp_path / "mixed", ["wav/03a01Fa.wav", "x/a.wav", "x/b.wav"])
    assert detect_corpus(tmp_path / "mixed") == (None, 1, 3)


# ---------------------------------------------------------------------------- re-exports


def test_make_emotional_speech_is_reexported():
    assert callable(make_emotional_speech)


def test_warnings_point_at_the_caller(tmp_path):
    make_tree(tmp_path, EMODB_NAMES[:1] + ["junk.wav"])
    with pytest.warns(DataWarning) as record:
        load_emodb(tmp_path)
    assert record[0].filename == __file__


# -------------------------------------------------- continuous targets and their corpora


def test_emotion_dimensions_are_derived_from_categories():
    from sklearn_ser.datasets import EMOTION_DIMENSIONS, emotion_dimensions

    dims = emotion_dimensions(["anger", "sadness", "anger", "neutral"])
    assert list(dims.columns) == ["arousal", "valence"]
    assert dims.loc[0].tolist() == dims.loc[2].tolist()  # one value per category
    assert dims.loc[0, "arousal"] > 0 > dims.loc[1, "arousal"]
    assert dims.loc[3].tolist() == [0.0, 0.0]
    assert set(EMOTION_DIMENSIONS) >= {"anger", "boredom", "calm", "happiness", "surprise"}
    with pytest.raises(ValueError, match=r"labels\[1\] is 'frustration'"):
        emotion_dimensions(["anger", "frustration"])


def test_intensity_levels_of_ravdess_and_cremad(tmp_path):
    from sklearn_ser.datasets import intensity_scores

    make_tree(tmp_path / "ravdess", ["Actor_01/03-01-05-01-01-01-01.wav",
                                     "Actor_01/03-01-05-02-01-01-01.wav"])
    ravdess = load_ravdess(tmp_path / "ravdess")
    assert intensity_scores(ravdess.frame["intensity"]).tolist() == [0.0, 1.0]
    make_tree(tmp_path / "cremad", ["1001_IEO_ANG_LO.wav", "1001_IEO_ANG_HI.wav",
                                    "1001_DFA_ANG_XX.wav"])
    cremad = load_cremad(tmp_path / "cremad")
    scores = dict(zip(cremad.frame["intensity"], intensity_scores(cremad.frame["intensity"])))
    assert scores["low"] == 0.0 and scores["high"] == 1.0 and np.isnan(scores["unspecified"])
    with pytest.raises(ValueError, match="intensity levels are"):
        intensity_scores(["loud"])


MSP_HEADER = "FileName,EmoClass,EmoAct,EmoVal,EmoDom,SpkrID,Gender,Split_Set\n"


def test_load_msp_podcast_layout(tmp_path):
    from sklearn_ser.datasets import load_msp_podcast

    root = tmp_path / "MSP-Podcast"
    make_tree(root / "Audios", ["MSP-PODCAST_0001_0001.wav", "MSP-PODCAST_0001_0002.wav",
                                "MSP-PODCAST_0002_0001.wav", "MSP-PODCAST_0009_0009.wav"])
    (root / "Labels").mkdir()
    (root / "Labels" / "labels_consensus.csv").write_text(
        MSP_HEADER
        + "MSP-PODCAST_0001_0001.wav,A,6.2,2.0,5.5,127,Male,Train\n"
        + "MSP-PODCAST_0001_0002.wav,N,4.0,4.2,4.0,127,Male,Train\n"
        + "MSP-PODCAST_0002_0001.wav,H,5.0,6.4,4.6,Unknown,Female,Test1\n"
        + "MSP-PODCAST_0003_0001.wav,S,2.0,2.2,3.0,88,Female,Development\n"
    )
    with pytest.warns(DataWarning) as record:
        msp = load_msp_podcast(root)
    messages = " ".join(str(w.message) for w in record)
    assert "MSP-PODCAST_0009_0009" in messages  # audio without labels: skipped, named
    assert "MSP-PODCAST_0003_0001" in messages  # labels without audio: named
    assert "no speaker id" in messages
    assert msp.target.tolist() == ["anger", "neutral", "happiness"]
    assert msp.groups.tolist() == ["msp-podcast:127", "msp-podcast:127",
                                   "msp-podcast:unknown"]
    np.testing.assert_array_equal(msp.arousal, [6.2, 4.0, 5.0])
    np.testing.assert_array_equal(msp.valence, [2.0, 4.2, 6.4])
    np.testing.assert_array_equal(msp.dominance, [5.5, 4.0, 4.6])
    assert msp.frame["split"].tolist() == ["Train", "Train", "Test1"]
    assert msp.frame["gender"].tolist() == ["male", "male", "female"]


def test_load_msp_podcast_names_a_wrong_labels_file(tmp_path):
    from sklearn_ser.datasets import load_msp_podcast

    make_tree(tmp_path, ["Audios/MSP-PODCAST_0001_0001.wav"])
    with pytest.raises(FileNotFoundError, match="labels_file="):
        load_msp_podcast(tmp_path)
    (tmp_path / "labels_concensus.csv").write_text("FileName,EmoClass\nx.wav,A\n")
    with pytest.raises(ValueError, match=r"lacks the column\(s\) \['EmoAct'"):
        load_msp_podcast(tmp_path)


def test_load_iemocap_layout(tmp_path):
    from sklearn_ser.datasets import load_iemocap

    root = tmp_path / "IEMOCAP_full_release"
    session = root / "Session1"
    make_tree(session / "sentences" / "wav", ["Ses01F_impro01/Ses01F_impro01_F000.wav",
                                              "Ses01F_impro01/Ses01F_impro01_M000.wav",
                                              "Ses01F_script01_1/Ses01F_script01_1_F002.wav"])
    make_tree(session / "dialog" / "wav", ["Ses01F_impro01.wav"])  # a whole dialogue
    evaluation = session / "dialog" / "EmoEvaluation"
    evaluation.mkdir(parents=True)
    (evaluation / "Ses01F_impro01.txt").write_text(
        "% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]\n\n"
        "[6.2901 - 8.2357]\tSes01F_impro01_F000\tneu\t[2.5000, 2.0000, 2.5000]\n"
        "C-E2:\tNeutral;\t()\n\n"
        "[10.0100 - 11.3925]\tSes01F_impro01_M000\tfru\t[2.0000, 3.5000, 3.5000]\n"
    )
    (evaluation / "Ses01F_script01_1.txt").write_text(
        "[1.0 - 2.0]\tSes01F_script01_1_F002\tang\t[1.5000, 4.0000, 4.5000]\n"
        "[3.0 - 4.0]\tSes01F_script01_1_F003\tsad\t[1.5000, 1.0000, 2.0000]\n"
    )
    with pytest.warns(DataWarning, match="Ses01F_script01_1_F003") as record:
        iemocap = load_iemocap(root)
    assert not any("Ses01F_impro01.wav" in str(w.message) for w in record)
    assert iemocap.target.tolist() == ["neutral", "frustration", "anger"]
    assert iemocap.groups.tolist() == ["iemocap:Ses01F", "iemocap:Ses01M", "iemocap:Ses01F"]
    np.testing.assert_array_equal(iemocap.valence, [2.5, 2.0, 1.5])
    np.testing.assert_array_equal(iemocap.arousal, [2.0, 3.5, 4.0])
    np.testing.assert_array_equal(iemocap.dominance, [2.5, 3.5, 4.5])
    assert iemocap.frame["improvised"].tolist() == [True, True, False]
    assert iemocap.frame["gender"].tolist() == ["female", "male", "female"]


def test_load_iemocap_without_evaluation_files(tmp_path):
    from sklearn_ser.datasets import load_iemocap

    make_tree(tmp_path, ["Session1/sentences/wav/d/Ses01F_impro01_F000.wav"])
    with pytest.raises(FileNotFoundError, match="EmoEvaluation"):
        load_iemocap(tmp_path)
