# Ensemble generation (expensive, sharded) and the correlator datasets built from it.


rule ensemble_shard:
    output:
        "results/ensembles/{activation}_d{d_in}/shard{shard}.nc",
    params:
        ensemble=ensemble_name,
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
    log:
        "logs/correlators/{activation}_d{d_in}.log",
    script:
        "../scripts/correlators.py"
