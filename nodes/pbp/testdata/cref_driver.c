/*
 * Runs the authors' PBP (HIPS/Probabilistic-Backpropagation, c/PBP_net/network.c, pnorm.c and
 * network.h @ c23e7a7995f1fc48a3789f6d7b1a583ef6a83e9f; not included here) on an input written
 * by TestWriteCRefInputs, and writes what TestAgainstAuthorsC compares to the file argv[1]:
 *
 *   a_noise b_noise a_prior b_prior
 *   m_w v_w            (one line per weight, storage order)
 *   m v                (standardized predictive mean and model variance, one line per row)
 *
 * all with %.17g. Build, with the three upstream files in this folder:
 *   gcc -O2 -o cref cref_driver.c network.c pnorm.c -lopenblas -lm
 *   ./cref cref_CASE.txt < CASE.in
 * (upstream's one_learning_epoch prints progress dots on stdout, hence the output file.)
 *
 * Input: "n d L h_1 .. h_L epochs", the standardized X (n×d, row-major) and y (n), the initial
 * weight noise ε (one per weight, storage order: init_network sets m_w = ε/sqrt(fan-in+1)),
 * then one permutation of 0..n-1 per epoch.
 */
#include <stdio.h>
#include <stdlib.h>
#include "network.h"

int main(int argc, char **argv) {
    int n, d, L, epochs, i, e, nw, prev;
    if (argc != 2 || scanf("%d %d %d", &n, &d, &L) != 3) return 1;
    int *h = malloc(sizeof(int) * L);
    for (i = 0; i < L; i++) if (scanf("%d", &h[i]) != 1) return 1;
    if (scanf("%d", &epochs) != 1) return 1;
    double *X = malloc(sizeof(double) * n * d), *y = malloc(sizeof(double) * n);
    for (i = 0; i < n * d; i++) if (scanf("%lf", &X[i]) != 1) return 2;
    for (i = 0; i < n; i++) if (scanf("%lf", &y[i]) != 1) return 2;
    nw = 0; prev = d;
    for (i = 0; i < L; i++) { nw += (prev + 1) * h[i]; prev = h[i]; }
    nw += prev + 1;
    /* The Python wrapper appends zeros for the internal identity output layer (2 weights). */
    double *eps = calloc(nw + 2, sizeof(double));
    for (i = 0; i < nw; i++) if (scanf("%lf", &eps[i]) != 1) return 3;
    NETWORK *net = init_network(h, L, d, eps);
    int size_w, n_layers;
    get_size_params(net, &size_w, &n_layers);
    if (size_w != nw) return 4;
    int *perm = malloc(sizeof(int) * n);
    for (e = 0; e < epochs; e++) {
        for (i = 0; i < n; i++) if (scanf("%d", &perm[i]) != 1) return 5;
        one_learning_epoch(net, X, y, n, d, perm);
    }
    double *m = malloc(sizeof(double) * n), *v = malloc(sizeof(double) * n), vn;
    predict(net, X, m, v, &vn, n, d);
    double *sw = malloc(sizeof(double) * nw), *mw = malloc(sizeof(double) * nw), *vw = malloc(sizeof(double) * nw);
    double *mh = malloc(sizeof(double) * nw), *vh = malloc(sizeof(double) * nw);
    double *ah = malloc(sizeof(double) * nw), *bh = malloc(sizeof(double) * nw);
    double an, bn, ap, bp;
    int *npl = malloc(sizeof(int) * n_layers);
    get_params(net, sw, mw, vw, mh, vh, ah, bh, &an, &bn, &ap, &bp, npl);
    FILE *f = fopen(argv[1], "w");
    if (f == NULL) return 6;
    fprintf(f, "%.17g %.17g %.17g %.17g\n", an, bn, ap, bp);
    for (i = 0; i < nw; i++) fprintf(f, "%.17g %.17g\n", mw[i], vw[i]);
    for (i = 0; i < n; i++) fprintf(f, "%.17g %.17g\n", m[i], v[i]);
    return fclose(f) != 0;
}
