"""Download corpora that are free to fetch (EmoDB, RAVDESS) into the data home, then load them.

The cache is never left half-written: the archive is downloaded to a temporary file and
extracted to a temporary folder, which is renamed into place only when complete. A cached
corpus is a folder ``<data_home>/<corpus>/<archive name>``; its presence means "done".
"""

import hashlib
import http.client
import os
import shutil
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile

from tqdm.auto import tqdm

from ._base import get_data_home
from ._emodb import load_emodb
from ._ravdess import load_ravdess

EMODB_URL = "http://emodb.bilderbar.info/download/download.zip"
RAVDESS_URL = "https://zenodo.org/records/1188976/files/Audio_Speech_Actors_01-24.zip"

_CHUNK = 1 << 20
_TIMEOUT = 60  # seconds without data before the download is given up
_NETWORK_ERRORS = (urllib.error.URLError, http.client.HTTPException, TimeoutError, ConnectionError)


def _archive_folder(data_home, corpus, url):
    """Cache folder of one archive: one folder per url, so speech and song zips coexist."""
    name = os.path.basename(urllib.parse.urlparse(url).path)
    name = name[: -len(".zip")] if name.lower().endswith(".zip") else name
    return os.path.join(get_data_home(data_home), corpus, name or "archive")


def _download(url, folder, *, sha256, manual_hint, verbose):
    """Download ``url`` to a temporary file in ``folder``; check its SHA-256; return its path."""
    fd, part = tempfile.mkstemp(dir=folder, prefix=".download-", suffix=".part")
    digest = hashlib.sha256()
    try:
        with os.fdopen(fd, "wb") as out:
            try:
                with urllib.request.urlopen(url, timeout=_TIMEOUT) as response:
                    size = response.headers.get("Content-Length")
                    with tqdm(total=int(size) if size else None, unit="B", unit_scale=True,
                              desc=f"Downloading {url}", disable=verbose <= 0) as bar:
                        while chunk := response.read(_CHUNK):
                            out.write(chunk)
                            digest.update(chunk)
                            bar.update(len(chunk))
            except _NETWORK_ERRORS as exc:
                raise ConnectionError(
                    f"Could not download {url}: {getattr(exc, 'reason', exc)}. Check the "
                    f"connection and the url, or {manual_hint}"
                ) from exc
        actual = digest.hexdigest()
        if sha256 is not None and actual != sha256.lower():
            raise OSError(
                f"The file downloaded from {url} has SHA-256 {actual}, not the expected "
                f"{sha256.lower()}; it may be corrupted or changed upstream. Retry, check the "
                f"sha256 argument, or {manual_hint}"
            )
    except BaseException:
        os.remove(part)
        raise
    return part


def _check_member(name, root, url):
    """Refuse an archive member that would land outside ``root`` (zip slip)."""
    target = os.path.realpath(os.path.join(root, name))
    if os.path.isabs(name) or os.path.commonpath([root, target]) != root:
        raise ValueError(
            f"Refused to extract the archive from {url}: its member '{name}' would be "
            "written outside the target folder. The archive is corrupt or malicious."
        )


def _extract(archive, target, url, manual_hint):
    """Extract the zip ``archive`` into ``target`` through a temporary folder."""
    scratch = tempfile.mkdtemp(dir=os.path.dirname(target), prefix=".extract-")
    try:
        root = os.path.realpath(scratch)
        try:
            with zipfile.ZipFile(archive) as zf:
                for name in zf.namelist():
                    _check_member(name, root, url)
                zf.extractall(scratch)
        except zipfile.BadZipFile as exc:
            raise OSError(
                f"The file downloaded from {url} is not a valid zip archive ({exc}). "
                f"Check the url, or {manual_hint}"
            ) from exc
        if not os.path.isdir(target):  # another process may have finished first
            os.rename(scratch, target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def fetch_archive(corpus, url, *, data_home, sha256, download_if_missing, loader, verbose):
    """Return the cache folder of ``url``'s archive, downloading and extracting it if needed.

    Parameters
    ----------
    corpus : str
        Short name of the corpus, its folder in the data home.
    url : str
        The zip archive.
    data_home : str, os.PathLike or None
        See :func:`get_data_home`.
    sha256 : str or None
        Expected SHA-256 of the archive, checked when given.
    download_if_missing : bool
        Whether to download when the archive is not cached.
    loader : str
        Name of the corpus's ``load_*`` function, for error messages.
    verbose : int
        Download progress bar when positive.

    Returns
    -------
    folder : str
        The extracted archive.
    """
    target = _archive_folder(data_home, corpus, url)
    if os.path.isdir(target):
        return target
    manual_hint = (
        f"download the archive by hand, extract it and call {loader}(data_dir=<its folder>)."
    )
    if not download_if_missing:
        raise FileNotFoundError(
            f"{corpus} is not in the cache ('{target}') and download_if_missing=False. Pass "
            f"download_if_missing=True, or {manual_hint}"
        )
    os.makedirs(os.path.dirname(target), exist_ok=True)
    archive = _download(url, os.path.dirname(target), sha256=sha256,
                        manual_hint=manual_hint, verbose=verbose)
    try:
        _extract(archive, target, url, manual_hint)
    finally:
        os.remove(archive)
    return target


def fetch_emodb(
    data_home=None, *, url=EMODB_URL, sha256=None, download_if_missing=True, **load_kwargs
):
    """Download EmoDB (about 40 MB) into the data home if needed, then load it.

    Parameters
    ----------
    data_home : str or os.PathLike, default=None
        Cache folder; see :func:`get_data_home`. The corpus goes to
        ``<data_home>/emodb/<archive name>``.
    url : str, default=EMODB_URL
        The zip archive, by default the official one,
        http://emodb.bilderbar.info/download/download.zip.
    sha256 : str, default=None
        Expected SHA-256 of the archive (hex). When given, a mismatch raises ``OSError``
        and nothing is cached.
    download_if_missing : bool, default=True
        With False, raise ``FileNotFoundError`` instead of downloading.
    **load_kwargs : dict
        Passed to :func:`load_emodb` (``return_clips``, ``sr``, ``n_jobs``, ``verbose``);
        ``verbose`` also shows a download progress bar.

    Returns
    -------
    dataset : :class:`~sklearn.utils.Bunch`
        As returned by :func:`load_emodb`.

    Raises
    ------
    ConnectionError
        The download failed; the message names the url.
    OSError
        The archive's SHA-256 differs from ``sha256``, or it is not a zip file.
    ValueError
        The archive holds a member that would be extracted outside the cache.
    FileNotFoundError
        The corpus is not cached and ``download_if_missing=False``.

    See Also
    --------
    load_emodb : Load a copy you already have.

    Examples
    --------
    >>> from sklearn_ser.datasets import fetch_emodb
    >>> emodb = fetch_emodb()  # doctest: +SKIP
    >>> len(emodb.data)  # doctest: +SKIP
    535
    """
    folder = fetch_archive(
        "emodb", url, data_home=data_home, sha256=sha256,
        download_if_missing=download_if_missing, loader="load_emodb",
        verbose=load_kwargs.get("verbose", 0),
    )
    return load_emodb(folder, **load_kwargs)


def fetch_ravdess(
    data_home=None, *, url=RAVDESS_URL, sha256=None, download_if_missing=True, **load_kwargs
):
    """Download RAVDESS's audio-only speech files (about 200 MB) if needed, then load them.

    Parameters
    ----------
    data_home : str or os.PathLike, default=None
        Cache folder; see :func:`get_data_home`. The corpus goes to
        ``<data_home>/ravdess/<archive name>``, so the song archive
        (``.../Audio_Song_Actors_01-24.zip``, with ``vocal_channel="song"``) can sit beside
        the speech one.
    url : str, default=RAVDESS_URL
        The zip archive, by default the official speech one,
        https://zenodo.org/records/1188976/files/Audio_Speech_Actors_01-24.zip.
    sha256 : str, default=None
        Expected SHA-256 of the archive (hex). When given, a mismatch raises ``OSError``
        and nothing is cached.
    download_if_missing : bool, default=True
        With False, raise ``FileNotFoundError`` instead of downloading.
    **load_kwargs : dict
        Passed to :func:`load_ravdess` (``vocal_channel``, ``return_clips``, ``sr``,
        ``n_jobs``, ``verbose``); ``verbose`` also shows a download progress bar.

    Returns
    -------
    dataset : :class:`~sklearn.utils.Bunch`
        As returned by :func:`load_ravdess`, for the files of this archive.

    Raises
    ------
    ConnectionError
        The download failed; the message names the url.
    OSError
        The archive's SHA-256 differs from ``sha256``, or it is not a zip file.
    ValueError
        The archive holds a member that would be extracted outside the cache.
    FileNotFoundError
        The corpus is not cached and ``download_if_missing=False``.

    See Also
    --------
    load_ravdess : Load a copy you already have.

    Examples
    --------
    >>> from sklearn_ser.datasets import fetch_ravdess
    >>> ravdess = fetch_ravdess()  # doctest: +SKIP
    >>> len(ravdess.data)  # doctest: +SKIP
    1440
    """
    folder = fetch_archive(
        "ravdess", url, data_home=data_home, sha256=sha256,
        download_if_missing=download_if_missing, loader="load_ravdess",
        verbose=load_kwargs.get("verbose", 0),
    )
    return load_ravdess(folder, **load_kwargs)
