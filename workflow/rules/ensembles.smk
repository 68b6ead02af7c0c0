# Ensemble generation (expensive, sharded) and the correlator datasets built from it.


rule ensemble_shard:
    output:
        "results/ensembles/{activation}_d{d_in}/shard{shard}.nc",
    params:
        settings=settings_of("ensemble_shard"),
        code=code_of("ensemble_shard"),
    log:
        "logs/ensembles/{activation}_d{d_in}_shard{shard}.log",
    benchmark:
        "benchmarks/ensembles/{activation}_d{d_in}_shard{shard}.tsv"
    script:
        "../scripts/ensemble_shard.py"


rule correlators:
    input:
        shards=shard_files,
        exact="results/exact/{activation}_d{d_in}.nc",
    output:
        "results/correlators/{activation}_d{d_in}.nc",
    params:
        settings=settings_of("correlators"),
        code=code_of("correlators"),
    log:
        "logs/correlators/{activation}_d{d_in}.log",
    script:
        "../scripts/correlators.py"
