"""Fit models M0-M3 on the train ensembles, verify on the test ensembles, beside the exact-data fit."""

import numpy as np
import pandas as pd

from nnqft import correlators, eft, io, runlog

log = runlog.to_file(snakemake.log[0])  # noqa: F821
inp = snakemake.input  # noqa: F821
rows, predictions = [], []
for train_path, test_path, train_vertices, test_vertices in zip(inp.train, inp.test, inp.vertices_train,
                                                                inp.vertices_test):
    data = {"train": io.read_netcdf(train_path), "test": io.read_netcdf(test_path)}
    vertices = {split: eft.vertices_for(io.read_netcdf(path), data[split], path)
                for split, path in (("train", train_vertices), ("test", test_vertices))}
    activation = data["train"].attrs["activation"]
    width = int(data["train"]["width"].values[0])
    obs = {split: eft.observed_deviation(ds, 4, width)[0] for split, ds in data.items()}
    exact = {split: eft.exact_deviation(ds) for split, ds in data.items()}
    key = dict(activation=activation, width=width, cutoff=float(vertices["train"]["cutoff"]),
               propagator=vertices["train"].attrs["propagator"],
               n_networks=int(data["train"].attrs["n_networks"]))
    fits, test_predictions = eft.fit_rows(vertices["train"], vertices["test"], obs["train"], obs["test"],
                                          exact["train"], exact["test"])
    rows += [dict(key, **row) for row in fits]
    t4 = correlators.multisets(data["test"].sizes["point"], 4)
    for model, predicted in test_predictions.items():
        predictions.append(pd.DataFrame(dict(
            activation=activation, model=model, multiset=[" ".join(map(str, t)) for t in t4.tolist()],
            measured=obs["test"].mean, stderr=np.sqrt(np.diag(obs["test"].cov)), exact=exact["test"],
            predicted=predicted)))
    m1 = next(r for r in rows if r["activation"] == activation and r["model"] == "M1")
    log.info("%s N=%d: M1 lambda0 = %.4g +- %.2g (exact-data fit %.4g), test MAPE %.3g%%, chi2/dof %.3g",
             activation, width, m1["lambda0"], m1["lambda0_stderr"], m1["lambda0_exact_fit"], m1["test_mape"],
             m1["test_chi2_dof"])
io.write_table(pd.DataFrame(rows), snakemake.output.fits)  # noqa: F821
io.write_table(pd.concat(predictions, ignore_index=True), snakemake.output.predictions)  # noqa: F821
