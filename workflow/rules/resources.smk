# What a job asks the scheduler for, sized from what it reads (profiles size threads and
# cluster settings; these are the rules' own).
from pathlib import Path


def _folder_mb(path):
    """What a file or a folder holds, in MB (0 before it exists)."""
    path = Path(path)
    if path.is_file():
        return path.stat().st_size / 2**20
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20 if path.exists() else 0


def input_disk_mb(wildcards, input):
    """Scratch for a job: twice what its inputs hold, at least 1 GB. Snakemake's own default
    sizes a directory() input as its inode (4 KB), whatever the folder holds."""
    return max(1000, int(2 * sum(_folder_mb(path) for path in input)))


def train_mem_mb(wildcards, input, attempt):
    """PyTorch's ~400 MB plus room for the data; a retry after running out asks for more."""
    return int((1500 + 8 * _folder_mb(input.data)) * attempt)


def train_runtime(wildcards, attempt):
    """Minutes; a job killed for time restarts from its checkpoint with twice the time."""
    return 60 * 2 ** (attempt - 1)
