#!/bin/sh
# Debian's python3-torch links libblas.so.3, which points at the slow reference BLAS unless an
# optimised one is selected. This selects OpenBLAS (pthread build) for BLAS and LAPACK.
# Needs root and: apt-get install -y python3-torch libopenblas0-pthread
set -e
update-alternatives --set libblas.so.3-x86_64-linux-gnu /usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3
update-alternatives --set liblapack.so.3-x86_64-linux-gnu /usr/lib/x86_64-linux-gnu/openblas-pthread/liblapack.so.3
update-alternatives --display libblas.so.3-x86_64-linux-gnu | head -3
