/* Compiled MTP kernels, threaded over atoms with OpenMP: neighbour lists (cell lists), energies/forces/virial,
 * and per-atom site-energy Jacobians (the nbh selection rows).
 *
 * No NumPy C API: every array comes in through the buffer protocol, C-contiguous, allocated by the Python side
 * (seilearn/mtp/kernel.py checks dtypes and shapes), so building needs only Python's headers and a C compiler.
 * The GIL is released while the kernels run. Thread count: OpenMP's (OMP_NUM_THREADS), or `threads` > 0.
 *
 * The MTP (MLIP's definitions): for a centre i and neighbour j at r = x_j - x_i, |r| = d < rmax, u = r / d,
 *   Q_k(d)       Chebyshev polynomials of x = 2 (d - rmin) / (rmax - rmin) - 1, times scaling * (rmax - d)^2,
 *   f_mu(d)      = sum_k c[t_i, t_j, mu, k] Q_k(d),
 *   B_a          = sum_j f_mu(a)(d) u_x^px(a) u_y^py(a) u_z^pz(a)     (basic moments),
 *   M_out       += mult * M_a * M_b over alpha_index_times            (all moments),
 *   V_i          = species_coeff[t_i] + sum_m moment_coeff[m] M[mapping[m]].
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#define MAX_POW 16
#define MIN_PARALLEL 128 /* atoms (or centres) below which a kernel runs on one thread: a team costs more */

/* ---------------------------------------------------------------------------------------------------------------
 * buffers
 * ------------------------------------------------------------------------------------------------------------- */
typedef struct {
    Py_buffer views[24];
    int count;
} Buffers;

static void *get_buf(Buffers *b, PyObject *obj, Py_ssize_t itemsize, int writable, Py_ssize_t *n_items,
                     const char *name)
{
    Py_buffer *v = &b->views[b->count];
    int flags = PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (writable ? PyBUF_WRITABLE : 0);
    if (PyObject_GetBuffer(obj, v, flags) < 0) {
        PyErr_Format(PyExc_TypeError, "%s: a C-contiguous%s array is needed", name, writable ? " writable" : "");
        return NULL;
    }
    b->count++;
    if (v->itemsize != itemsize) {
        PyErr_Format(PyExc_TypeError, "%s: items of %zd bytes expected, got %zd", name, itemsize, v->itemsize);
        return NULL;
    }
    if (n_items) *n_items = v->len / itemsize;
    return v->buf;
}

static void release(Buffers *b)
{
    for (int k = 0; k < b->count; k++) PyBuffer_Release(&b->views[k]);
    b->count = 0;
}

static int set_threads(int threads)
{
#ifdef _OPENMP
    return threads > 0 ? threads : omp_get_max_threads();
#else
    (void)threads;
    return 1;
#endif
}

/* ---------------------------------------------------------------------------------------------------------------
 * neighbour lists
 * ------------------------------------------------------------------------------------------------------------- */
typedef struct {
    int n;
    double cell[3][3];  /* rows: lattice vectors */
    int pbc[3];
    double cutoff2;
    int nb[3], range[3];
    double *wrapped;     /* positions mapped into the cell along periodic directions */
    int *image;          /* integer lattice shift removed by the wrap */
    int *bin_of;
    int *bin_start, *bin_atoms;
} Grid;

static int inv3(const double a[3][3], double out[3][3])
{
    double det = a[0][0] * (a[1][1] * a[2][2] - a[1][2] * a[2][1]) - a[0][1] * (a[1][0] * a[2][2] - a[1][2] * a[2][0])
                 + a[0][2] * (a[1][0] * a[2][1] - a[1][1] * a[2][0]);
    if (fabs(det) < 1e-300) return -1;
    out[0][0] = (a[1][1] * a[2][2] - a[1][2] * a[2][1]) / det;
    out[0][1] = (a[0][2] * a[2][1] - a[0][1] * a[2][2]) / det;
    out[0][2] = (a[0][1] * a[1][2] - a[0][2] * a[1][1]) / det;
    out[1][0] = (a[1][2] * a[2][0] - a[1][0] * a[2][2]) / det;
    out[1][1] = (a[0][0] * a[2][2] - a[0][2] * a[2][0]) / det;
    out[1][2] = (a[0][2] * a[1][0] - a[0][0] * a[1][2]) / det;
    out[2][0] = (a[1][0] * a[2][1] - a[1][1] * a[2][0]) / det;
    out[2][1] = (a[0][1] * a[2][0] - a[0][0] * a[2][1]) / det;
    out[2][2] = (a[0][0] * a[1][1] - a[0][1] * a[1][0]) / det;
    return 0;
}

static void grid_free(Grid *g)
{
    free(g->wrapped);
    free(g->image);
    free(g->bin_of);
    free(g->bin_start);
    free(g->bin_atoms);
}

/* Bins of width >= cutoff along each lattice direction (fewer when the cell is thinner than the cutoff: then
 * `range` bins, images included, are searched each way). Non-periodic directions bin the atoms' extent. */
static int grid_build(Grid *g, const double *pos, int n, const double *cell, const uint8_t *pbc, double cutoff)
{
    memset(g, 0, sizeof(*g));
    g->n = n;
    g->cutoff2 = cutoff * cutoff;
    double inv[3][3];
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++) g->cell[a][b] = cell[3 * a + b];
    for (int k = 0; k < 3; k++) g->pbc[k] = pbc[k] != 0;
    if (inv3(g->cell, inv) < 0) return -1;
    g->wrapped = malloc(sizeof(double) * 3 * (size_t)(n > 0 ? n : 1));
    g->image = malloc(sizeof(int) * 3 * (size_t)(n > 0 ? n : 1));
    g->bin_of = malloc(sizeof(int) * (size_t)(n > 0 ? n : 1));
    double *frac = malloc(sizeof(double) * 3 * (size_t)(n > 0 ? n : 1));
    if (!g->wrapped || !g->image || !g->bin_of || !frac) {
        free(frac);
        return -2;
    }
    double lo[3] = {0, 0, 0}, hi[3] = {1, 1, 1};
    for (int k = 0; k < 3; k++)
        if (!g->pbc[k]) { lo[k] = INFINITY; hi[k] = -INFINITY; }
    for (int i = 0; i < n; i++) {
        for (int k = 0; k < 3; k++) {
            /* fractional coordinate k = x . (column k of inv) */
            double s = pos[3 * i] * inv[0][k] + pos[3 * i + 1] * inv[1][k] + pos[3 * i + 2] * inv[2][k];
            int img = 0;
            if (g->pbc[k]) {
                img = (int)floor(s);
                s -= img;
                if (s >= 1.0) { s -= 1.0; img += 1; }
                if (s < 0.0) s = 0.0;
            } else {
                if (s < lo[k]) lo[k] = s;
                if (s > hi[k]) hi[k] = s;
            }
            frac[3 * i + k] = s;
            g->image[3 * i + k] = img;
        }
        for (int b = 0; b < 3; b++)
            g->wrapped[3 * i + b] = pos[3 * i + b] - g->image[3 * i] * g->cell[0][b] - g->image[3 * i + 1] * g->cell[1][b]
                                    - g->image[3 * i + 2] * g->cell[2][b];
    }
    long total = 1;
    for (int k = 0; k < 3; k++) {
        /* distance between the lattice planes of direction k */
        double norm = sqrt(inv[0][k] * inv[0][k] + inv[1][k] * inv[1][k] + inv[2][k] * inv[2][k]);
        double spacing = 1.0 / norm;
        double extent = g->pbc[k] ? spacing : (n > 0 ? (hi[k] - lo[k]) * spacing : 0.0);
        int nb = (int)floor(extent / cutoff);
        if (nb < 1) nb = 1;
        if (nb > 256) nb = 256;
        while (total * nb > 4L * n + 64 && nb > 1) nb /= 2; /* no more bins than atoms need */
        g->nb[k] = nb;
        total *= nb;
        double width = extent / nb;
        if (g->pbc[k]) {
            g->range[k] = (int)ceil(cutoff / width);
        } else {
            g->range[k] = width > 0 ? (int)ceil(cutoff / width) : 0;
            if (g->range[k] > nb - 1) g->range[k] = nb - 1;
        }
    }
    for (int i = 0; i < n; i++) {
        int idx = 0;
        for (int k = 0; k < 3; k++) {
            double s = frac[3 * i + k];
            if (!g->pbc[k]) s = hi[k] > lo[k] ? (s - lo[k]) / (hi[k] - lo[k]) : 0.0;
            int b = (int)(s * g->nb[k]);
            if (b >= g->nb[k]) b = g->nb[k] - 1;
            if (b < 0) b = 0;
            idx = idx * g->nb[k] + b;
        }
        g->bin_of[i] = idx;
    }
    free(frac);
    g->bin_start = calloc((size_t)total + 1, sizeof(int));
    g->bin_atoms = malloc(sizeof(int) * (size_t)(n > 0 ? n : 1));
    if (!g->bin_start || !g->bin_atoms) return -2;
    for (int i = 0; i < n; i++) g->bin_start[g->bin_of[i] + 1]++;
    for (long b = 0; b < total; b++) g->bin_start[b + 1] += g->bin_start[b];
    int *fill = malloc(sizeof(int) * (size_t)total);
    if (!fill) return -2;
    memcpy(fill, g->bin_start, sizeof(int) * (size_t)total);
    for (int i = 0; i < n; i++) g->bin_atoms[fill[g->bin_of[i]]++] = i; /* ascending atom order within a bin */
    free(fill);
    return 0;
}

static inline int floordiv(int a, int b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

/* growing per-thread pair buffers */
typedef struct {
    int32_t *j, *shift;
    double *offset;
    long size, cap;
} Pairs;

static int pairs_reserve(Pairs *p, long need)
{
    if (need <= p->cap) return 0;
    long cap = p->cap ? p->cap : 1024;
    while (cap < need) cap *= 2;
    int32_t *j = realloc(p->j, sizeof(int32_t) * cap);
    if (j) p->j = j;
    int32_t *sh = realloc(p->shift, sizeof(int32_t) * 3 * cap);
    if (sh) p->shift = sh;
    double *off = realloc(p->offset, sizeof(double) * 3 * cap);
    if (off) p->offset = off;
    if (!j || !sh || !off) return -1;
    p->cap = cap;
    return 0;
}

/* Append the neighbours of atom i to `out` (in bin order, so the list does not depend on the thread count).
 * Returns how many, or -1 when out of memory. */
static long grid_visit(const Grid *g, int i, Pairs *out)
{
    int b = g->bin_of[i];
    int bz = b % g->nb[2], by = (b / g->nb[2]) % g->nb[1], bx = b / (g->nb[2] * g->nb[1]);
    int home[3] = {bx, by, bz};
    const double *xi = g->wrapped + 3 * i;
    long start = out->size;
    for (int o0 = -g->range[0]; o0 <= g->range[0]; o0++) {
        int t[3], s[3];
        t[0] = home[0] + o0;
        if (g->pbc[0]) { s[0] = floordiv(t[0], g->nb[0]); t[0] -= s[0] * g->nb[0]; }
        else { if (t[0] < 0 || t[0] >= g->nb[0]) continue; s[0] = 0; }
        for (int o1 = -g->range[1]; o1 <= g->range[1]; o1++) {
            t[1] = home[1] + o1;
            if (g->pbc[1]) { s[1] = floordiv(t[1], g->nb[1]); t[1] -= s[1] * g->nb[1]; }
            else { if (t[1] < 0 || t[1] >= g->nb[1]) continue; s[1] = 0; }
            for (int o2 = -g->range[2]; o2 <= g->range[2]; o2++) {
                t[2] = home[2] + o2;
                if (g->pbc[2]) { s[2] = floordiv(t[2], g->nb[2]); t[2] -= s[2] * g->nb[2]; }
                else { if (t[2] < 0 || t[2] >= g->nb[2]) continue; s[2] = 0; }
                double sh[3];
                for (int c = 0; c < 3; c++)
                    sh[c] = s[0] * g->cell[0][c] + s[1] * g->cell[1][c] + s[2] * g->cell[2][c] - xi[c];
                int bin = (t[0] * g->nb[1] + t[1]) * g->nb[2] + t[2];
                int q0 = g->bin_start[bin], q1 = g->bin_start[bin + 1];
                if (pairs_reserve(out, out->size + (q1 - q0)) < 0) return -1;
                for (int q = q0; q < q1; q++) {
                    int j = g->bin_atoms[q];
                    const double *xj = g->wrapped + 3 * j;
                    double dx = xj[0] + sh[0], dy = xj[1] + sh[1], dz = xj[2] + sh[2];
                    double d2 = dx * dx + dy * dy + dz * dz;
                    if (d2 >= g->cutoff2 || (j == i && s[0] == 0 && s[1] == 0 && s[2] == 0)) continue;
                    long k = out->size++;
                    out->j[k] = j;
                    int32_t *S = out->shift + 3 * k;
                    for (int c = 0; c < 3; c++) S[c] = s[c] - g->image[3 * j + c] + g->image[3 * i + c];
                    for (int c = 0; c < 3; c++)
                        out->offset[3 * k + c] = S[0] * g->cell[0][c] + S[1] * g->cell[1][c] + S[2] * g->cell[2][c];
                }
            }
        }
    }
    return out->size - start;
}

static const char *grid_error(int rc)
{
    return rc == -1 ? "the cell is singular" : "out of memory";
}

/* neighbours(positions (n,3) f8, cell (3,3) f8, pbc (3,) u1, cutoff, counts (n,) i8 out, threads)
 *   -> (j bytes of int32, shifts bytes of 3 int32, offsets bytes of 3 float64: shifts times the cell)
 * One pass: each thread walks a contiguous block of atoms into its own buffer; blocks are joined in order. */
static PyObject *py_neighbours(PyObject *self, PyObject *args)
{
    PyObject *o_pos, *o_cell, *o_pbc, *o_counts;
    double cutoff;
    int threads;
    if (!PyArg_ParseTuple(args, "OOOdOi", &o_pos, &o_cell, &o_pbc, &cutoff, &o_counts, &threads)) return NULL;
    Buffers b = {.count = 0};
    Py_ssize_t n3, n;
    double *pos = get_buf(&b, o_pos, 8, 0, &n3, "positions");
    double *cell = pos ? get_buf(&b, o_cell, 8, 0, NULL, "cell") : NULL;
    uint8_t *pbc = cell ? get_buf(&b, o_pbc, 1, 0, NULL, "pbc") : NULL;
    int64_t *counts = pbc ? get_buf(&b, o_counts, 8, 1, &n, "counts") : NULL;
    if (!counts) { release(&b); return NULL; }
    if (n3 != 3 * n) {
        release(&b);
        PyErr_SetString(PyExc_ValueError, "positions must have shape (len(counts), 3)");
        return NULL;
    }
    int nt = set_threads(threads);
    /* contiguous blocks of atoms taken dynamically (a thread that the OS deschedules on a busy machine holds up
     * no other), each into its own buffer, joined in block order: the list does not depend on the threads */
    long nblocks = n < 16L * nt ? (n > 0 ? (long)n : 1) : 16L * nt;
    Pairs *parts = calloc((size_t)nblocks, sizeof(Pairs));
    if (!parts) { release(&b); return PyErr_NoMemory(); }
    Grid g;
    int rc, failed = 0;
    Py_BEGIN_ALLOW_THREADS
    rc = grid_build(&g, pos, (int)n, cell, pbc, cutoff);
    if (rc == 0) {
        #pragma omp parallel for schedule(dynamic, 1) num_threads(nt) reduction(| : failed) if (n >= MIN_PARALLEL)
        for (long t = 0; t < nblocks; t++) {
            long lo = (long)n * t / nblocks, hi = (long)n * (t + 1) / nblocks;
            for (long i = lo; i < hi && !failed; i++) {
                long c = grid_visit(&g, (int)i, &parts[t]);
                if (c < 0) failed = 1;
                else counts[i] = c;
            }
        }
    }
    grid_free(&g);
    Py_END_ALLOW_THREADS
    release(&b);
    PyObject *result = NULL;
    if (rc != 0 || failed) {
        if (rc != 0) PyErr_SetString(PyExc_ValueError, grid_error(rc));
        else PyErr_NoMemory();
    }
    else {
        long total = 0;
        for (long t = 0; t < nblocks; t++) total += parts[t].size;
        PyObject *oj = PyBytes_FromStringAndSize(NULL, sizeof(int32_t) * total);
        PyObject *os = PyBytes_FromStringAndSize(NULL, sizeof(int32_t) * 3 * total);
        PyObject *oo = PyBytes_FromStringAndSize(NULL, sizeof(double) * 3 * total);
        if (oj && os && oo) {
            char *pj = PyBytes_AS_STRING(oj), *ps = PyBytes_AS_STRING(os), *po = PyBytes_AS_STRING(oo);
            for (long t = 0; t < nblocks; t++) {
                long k = parts[t].size;
                if (k == 0) continue;
                memcpy(pj, parts[t].j, sizeof(int32_t) * k);
                memcpy(ps, parts[t].shift, sizeof(int32_t) * 3 * k);
                memcpy(po, parts[t].offset, sizeof(double) * 3 * k);
                pj += sizeof(int32_t) * k;
                ps += sizeof(int32_t) * 3 * k;
                po += sizeof(double) * 3 * k;
            }
            result = PyTuple_Pack(3, oj, os, oo);
        }
        Py_XDECREF(oj);
        Py_XDECREF(os);
        Py_XDECREF(oo);
    }
    for (long t = 0; t < nblocks; t++) {
        free(parts[t].j);
        free(parts[t].shift);
        free(parts[t].offset);
    }
    free(parts);
    return result;
}

/* min_pair(positions (n,3) f8, first (n+1,) i8, j (P,) i4, offsets (P,3) f8) -> (pair index, distance) of the
 * shortest pair (-1, inf when there is none; ties: the first pair) */
static PyObject *py_min_pair(PyObject *self, PyObject *args)
{
    PyObject *o_pos, *o_first, *o_j, *o_off;
    if (!PyArg_ParseTuple(args, "OOOO", &o_pos, &o_first, &o_j, &o_off)) return NULL;
    Buffers b = {.count = 0};
    Py_ssize_t n1, P;
    double *pos = get_buf(&b, o_pos, 8, 0, NULL, "positions");
    int64_t *first = pos ? get_buf(&b, o_first, 8, 0, &n1, "first") : NULL;
    int32_t *js = first ? get_buf(&b, o_j, 4, 0, &P, "j") : NULL;
    double *off = js ? get_buf(&b, o_off, 8, 0, NULL, "offsets") : NULL;
    if (!off) { release(&b); return NULL; }
    double best = INFINITY;
    long arg = -1;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < n1 - 1; i++) {
        const double *xi = pos + 3 * i;
        for (int64_t p = first[i]; p < first[i + 1]; p++) {
            const double *xj = pos + 3 * js[p], *o = off + 3 * p;
            double dx = xj[0] + o[0] - xi[0], dy = xj[1] + o[1] - xi[1], dz = xj[2] + o[2] - xi[2];
            double d2 = dx * dx + dy * dy + dz * dz;
            if (d2 < best) { best = d2; arg = (long)p; }
        }
    }
    Py_END_ALLOW_THREADS
    release(&b);
    return Py_BuildValue("ld", arg, sqrt(best));
}

/* transpose(first (n+1,) i8, j (P,) i4, rfirst (n+1,) i8 out, rpairs (P,) i8 out): pairs grouped by neighbour,
 * in ascending pair order (so force sums do not depend on the thread count). */
static PyObject *py_transpose(PyObject *self, PyObject *args)
{
    PyObject *o_first, *o_j, *o_rfirst, *o_rpairs;
    if (!PyArg_ParseTuple(args, "OOOO", &o_first, &o_j, &o_rfirst, &o_rpairs)) return NULL;
    Buffers b = {.count = 0};
    Py_ssize_t n1, P;
    int64_t *first = get_buf(&b, o_first, 8, 0, &n1, "first");
    int32_t *js = first ? get_buf(&b, o_j, 4, 0, &P, "j") : NULL;
    int64_t *rfirst = js ? get_buf(&b, o_rfirst, 8, 1, NULL, "rfirst") : NULL;
    int64_t *rpairs = rfirst ? get_buf(&b, o_rpairs, 8, 1, NULL, "rpairs") : NULL;
    if (!rpairs) { release(&b); return NULL; }
    Py_ssize_t n = n1 - 1;
    Py_BEGIN_ALLOW_THREADS
    memset(rfirst, 0, sizeof(int64_t) * (size_t)n1);
    for (Py_ssize_t p = 0; p < P; p++) rfirst[js[p] + 1]++;
    for (Py_ssize_t k = 0; k < n; k++) rfirst[k + 1] += rfirst[k];
    int64_t *fill = malloc(sizeof(int64_t) * (size_t)(n > 0 ? n : 1));
    if (fill) {
        memcpy(fill, rfirst, sizeof(int64_t) * (size_t)n);
        for (Py_ssize_t p = 0; p < P; p++) rpairs[fill[js[p]]++] = p;
        free(fill);
    }
    Py_END_ALLOW_THREADS
    release(&b);
    Py_RETURN_NONE;
}

/* ---------------------------------------------------------------------------------------------------------------
 * the MTP
 * ------------------------------------------------------------------------------------------------------------- */
typedef struct {
    int S, R, K, nb, nt, nm, ns;   /* species, radial funcs, basis size, basic moments, times, moments, scalars */
    double rmin, rmax, scaling;
    const double *radial;          /* (S, S, R, K) */
    const double *species_coeffs;  /* (S,) */
    const double *moment_coeffs;   /* (ns,) */
    const int32_t *basic;          /* (nb, 4): mu, px, py, pz */
    const int32_t *times;          /* (nt, 4): a, b, mult, out */
    const int32_t *mapping;        /* (ns,) */
    int maxpow;
} Model;

/* model arguments: radial, species_coeffs, moment_coeffs, basic, times, mapping, (S, R, K, nm), (rmin, rmax, scaling) */
static int parse_model(Buffers *b, Model *m, PyObject *o_rad, PyObject *o_sc, PyObject *o_mc, PyObject *o_basic,
                       PyObject *o_times, PyObject *o_map, PyObject *o_dims, PyObject *o_dist)
{
    Py_ssize_t nrad, ns, nmc, nb4, nt4, nmap;
    if (!PyArg_ParseTuple(o_dims, "iiii", &m->S, &m->R, &m->K, &m->nm)) return -1;
    if (!PyArg_ParseTuple(o_dist, "ddd", &m->rmin, &m->rmax, &m->scaling)) return -1;
    m->radial = get_buf(b, o_rad, 8, 0, &nrad, "radial_coeffs");
    if (!m->radial) return -1;
    m->species_coeffs = get_buf(b, o_sc, 8, 0, &ns, "species_coeffs");
    if (!m->species_coeffs) return -1;
    m->moment_coeffs = get_buf(b, o_mc, 8, 0, &nmc, "moment_coeffs");
    if (!m->moment_coeffs) return -1;
    m->basic = get_buf(b, o_basic, 4, 0, &nb4, "alpha_index_basic");
    if (!m->basic) return -1;
    m->times = get_buf(b, o_times, 4, 0, &nt4, "alpha_index_times");
    if (!m->times) return -1;
    m->mapping = get_buf(b, o_map, 4, 0, &nmap, "alpha_moment_mapping");
    if (!m->mapping) return -1;
    m->nb = (int)(nb4 / 4);
    m->nt = (int)(nt4 / 4);
    m->ns = (int)nmap;
    if (nrad != (Py_ssize_t)m->S * m->S * m->R * m->K || ns != m->S || nmc != nmap || m->K < 1) {
        PyErr_SetString(PyExc_ValueError, "inconsistent MTP coefficient sizes");
        return -1;
    }
    m->maxpow = 0;
    for (int a = 0; a < m->nb; a++) {
        for (int c = 1; c < 4; c++)
            if (m->basic[4 * a + c] > m->maxpow) m->maxpow = m->basic[4 * a + c];
        if (m->basic[4 * a] < 0 || m->basic[4 * a] >= m->R) {
            PyErr_SetString(PyExc_ValueError, "alpha_index_basic names a radial function the model does not have");
            return -1;
        }
    }
    if (m->maxpow >= MAX_POW) {
        PyErr_SetString(PyExc_ValueError, "angular powers above 15 are not supported");
        return -1;
    }
    for (int t = 0; t < m->nt; t++)
        for (int c = 0; c < 4; c++) {
            if (c == 2) continue;
            if (m->times[4 * t + c] < 0 || m->times[4 * t + c] >= m->nm) {
                PyErr_SetString(PyExc_ValueError, "alpha_index_times out of range");
                return -1;
            }
        }
    for (int s = 0; s < m->ns; s++)
        if (m->mapping[s] < 0 || m->mapping[s] >= m->nm) {
            PyErr_SetString(PyExc_ValueError, "alpha_moment_mapping out of range");
            return -1;
        }
    return 0;
}

/* per-thread scratch for one centre with up to `width` neighbours */
typedef struct {
    double *M, *dM;        /* (nm,) */
    double *Q, *dQ;        /* (width, K) */
    double *f, *df;        /* (width, R) */
    double *u, *d;         /* (width, 3), (width,) */
    double *pw;            /* (width, 3, MAX_POW) powers of u */
    int *tj;
    double *w;             /* (R,) */
} Scratch;

static int scratch_alloc(Scratch *s, const Model *m, long width)
{
    if (width < 1) width = 1;
    s->M = malloc(sizeof(double) * m->nm);
    s->dM = malloc(sizeof(double) * m->nm);
    s->Q = malloc(sizeof(double) * width * m->K);
    s->dQ = malloc(sizeof(double) * width * m->K);
    s->f = malloc(sizeof(double) * width * m->R);
    s->df = malloc(sizeof(double) * width * m->R);
    s->u = malloc(sizeof(double) * width * 3);
    s->d = malloc(sizeof(double) * width);
    s->pw = malloc(sizeof(double) * width * 3 * MAX_POW);
    s->tj = malloc(sizeof(int) * width);
    s->w = malloc(sizeof(double) * m->R);
    return (s->M && s->dM && s->Q && s->dQ && s->f && s->df && s->u && s->d && s->pw && s->tj && s->w) ? 0 : -1;
}

static void scratch_free(Scratch *s)
{
    free(s->M); free(s->dM); free(s->Q); free(s->dQ); free(s->f); free(s->df);
    free(s->u); free(s->d); free(s->pw); free(s->tj); free(s->w);
}

typedef struct {
    const double *pos;      /* (n, 3) */
    const int32_t *types;   /* (n,) */
    const int64_t *first;   /* (n+1,) */
    const int32_t *js;      /* (P,) */
    const double *offsets;  /* (P, 3) Cartesian lattice shifts */
} System;

/* Pass 1 for centre i: pair geometry, radial functions, all moments M. Returns the number of pairs kept in
 * scratch (pairs beyond rmax are dropped; `keep` maps scratch slot -> pair index when given). */
static int centre_moments(const Model *m, const System *sys, int i, Scratch *s, int64_t *keep, int need_ders)
{
    const int K = m->K, R = m->R, S = m->S;
    const double *xi = sys->pos + 3 * i;
    const int ti = sys->types[i];
    const double mult = 2.0 / (m->rmax - m->rmin);
    memset(s->M, 0, sizeof(double) * m->nm);
    int c = 0;
    for (int64_t p = sys->first[i]; p < sys->first[i + 1]; p++) {
        int j = sys->js[p];
        const double *xj = sys->pos + 3 * j, *off = sys->offsets + 3 * p;
        double r[3] = {xj[0] + off[0] - xi[0], xj[1] + off[1] - xi[1], xj[2] + off[2] - xi[2]};
        double d = sqrt(r[0] * r[0] + r[1] * r[1] + r[2] * r[2]);
        if (d >= m->rmax || d <= 0.0) continue;
        double *Q = s->Q + (size_t)c * K, *dQ = s->dQ + (size_t)c * K;
        double x = (2.0 * d - (m->rmin + m->rmax)) / (m->rmax - m->rmin);
        double diff = m->rmax - d;
        Q[0] = m->scaling * diff * diff;
        dQ[0] = -2.0 * m->scaling * diff;
        if (K > 1) {
            Q[1] = x * Q[0];
            dQ[1] = mult * Q[0] + x * dQ[0];
        }
        for (int k = 2; k < K; k++) {
            Q[k] = 2.0 * x * Q[k - 1] - Q[k - 2];
            dQ[k] = 2.0 * (mult * Q[k - 1] + x * dQ[k - 1]) - dQ[k - 2];
        }
        int tj = sys->types[j];
        const double *cf = m->radial + ((size_t)ti * S + tj) * R * K;
        double *f = s->f + (size_t)c * R, *df = s->df + (size_t)c * R;
        for (int mu = 0; mu < R; mu++) {
            double v = 0.0, dv = 0.0;
            for (int k = 0; k < K; k++) {
                v += cf[mu * K + k] * Q[k];
                if (need_ders) dv += cf[mu * K + k] * dQ[k];
            }
            f[mu] = v;
            df[mu] = dv;
        }
        double *u = s->u + 3 * c, *pw = s->pw + (size_t)c * 3 * MAX_POW;
        for (int a = 0; a < 3; a++) {
            u[a] = r[a] / d;
            pw[a * MAX_POW] = 1.0;
            for (int q = 1; q <= m->maxpow; q++) pw[a * MAX_POW + q] = pw[a * MAX_POW + q - 1] * u[a];
        }
        s->d[c] = d;
        s->tj[c] = tj;
        for (int a = 0; a < m->nb; a++) {
            const int32_t *bs = m->basic + 4 * a;
            s->M[a] += f[bs[0]] * pw[bs[1]] * pw[MAX_POW + bs[2]] * pw[2 * MAX_POW + bs[3]];
        }
        if (keep) keep[c] = p;
        c++;
    }
    for (int t = 0; t < m->nt; t++) {
        const int32_t *tt = m->times + 4 * t;
        s->M[tt[3]] += tt[2] * s->M[tt[0]] * s->M[tt[1]];
    }
    return c;
}

/* dV_i/dM for every moment (backwards through alpha_index_times); returns V_i */
static double centre_backprop(const Model *m, Scratch *s, int ti)
{
    double e = m->species_coeffs[ti];
    memset(s->dM, 0, sizeof(double) * m->nm);
    for (int q = 0; q < m->ns; q++) {
        e += m->moment_coeffs[q] * s->M[m->mapping[q]];
        s->dM[m->mapping[q]] += m->moment_coeffs[q];
    }
    for (int t = m->nt - 1; t >= 0; t--) {
        const int32_t *tt = m->times + 4 * t;
        double g = tt[2] * s->dM[tt[3]];
        s->dM[tt[0]] += g * s->M[tt[1]];
        s->dM[tt[1]] += g * s->M[tt[0]];
    }
    return e;
}

/* efs(model..., positions, types, first, j, offsets, rfirst, rpairs, energies out, forces out, virial (n,9) out,
 *     grad (P,3) workspace, width, threads) */
static PyObject *py_efs(PyObject *self, PyObject *args)
{
    PyObject *o_rad, *o_sc, *o_mc, *o_basic, *o_times, *o_map, *o_dims, *o_dist;
    PyObject *o_pos, *o_types, *o_first, *o_j, *o_off, *o_rfirst, *o_rpairs, *o_e, *o_f, *o_vir, *o_grad;
    long width;
    int threads;
    if (!PyArg_ParseTuple(args, "OOOOOOOOOOOOOOOOOOOli", &o_rad, &o_sc, &o_mc, &o_basic, &o_times, &o_map, &o_dims,
                          &o_dist, &o_pos, &o_types, &o_first, &o_j, &o_off, &o_rfirst, &o_rpairs, &o_e, &o_f,
                          &o_vir, &o_grad, &width, &threads))
        return NULL;
    Buffers b = {.count = 0};
    Model m;
    System sys;
    Py_ssize_t n, P;
    int64_t *rfirst = NULL, *rpairs = NULL;
    double *energies = NULL, *forces = NULL, *virial = NULL, *grad = NULL;
    if (parse_model(&b, &m, o_rad, o_sc, o_mc, o_basic, o_times, o_map, o_dims, o_dist) < 0) goto fail;
    if (!(sys.pos = get_buf(&b, o_pos, 8, 0, NULL, "positions"))) goto fail;
    if (!(sys.types = get_buf(&b, o_types, 4, 0, &n, "types"))) goto fail;
    if (!(sys.first = get_buf(&b, o_first, 8, 0, NULL, "first"))) goto fail;
    if (!(sys.js = get_buf(&b, o_j, 4, 0, &P, "j"))) goto fail;
    if (!(sys.offsets = get_buf(&b, o_off, 8, 0, NULL, "offsets"))) goto fail;
    if (!(rfirst = get_buf(&b, o_rfirst, 8, 0, NULL, "rfirst"))) goto fail;
    if (!(rpairs = get_buf(&b, o_rpairs, 8, 0, NULL, "rpairs"))) goto fail;
    if (!(energies = get_buf(&b, o_e, 8, 1, NULL, "energies"))) goto fail;
    if (!(forces = get_buf(&b, o_f, 8, 1, NULL, "forces"))) goto fail;
    if (!(virial = get_buf(&b, o_vir, 8, 1, NULL, "virial"))) goto fail;
    if (!(grad = get_buf(&b, o_grad, 8, 1, NULL, "grad"))) goto fail;
    int failed = 0;
    Py_BEGIN_ALLOW_THREADS
    #pragma omp parallel num_threads(set_threads(threads)) reduction(| : failed) if (n >= MIN_PARALLEL)
    {
        Scratch s;
        if (scratch_alloc(&s, &m, width) < 0) {
            failed = 1;
        }
        else {
            int64_t *keep = malloc(sizeof(int64_t) * (width > 0 ? width : 1));
            if (!keep) failed = 1;
            #pragma omp for schedule(dynamic, 64)
            for (Py_ssize_t i = 0; i < n; i++) {
                if (!keep) continue;
                for (int64_t p = sys.first[i]; p < sys.first[i + 1]; p++)
                    grad[3 * p] = grad[3 * p + 1] = grad[3 * p + 2] = 0.0;
                int c = centre_moments(&m, &sys, (int)i, &s, keep, 1);
                energies[i] = centre_backprop(&m, &s, sys.types[i]);
                double *vir = virial + 9 * i;
                memset(vir, 0, sizeof(double) * 9);
                for (int q = 0; q < c; q++) {
                    const double *u = s.u + 3 * q, *pw = s.pw + (size_t)q * 3 * MAX_POW;
                    const double *f = s.f + (size_t)q * m.R, *df = s.df + (size_t)q * m.R;
                    double inv_d = 1.0 / s.d[q];
                    double radial = 0.0, g[3] = {0.0, 0.0, 0.0};
                    for (int a = 0; a < m.nb; a++) {
                        double w = s.dM[a];
                        if (w == 0.0) continue;
                        const int32_t *bs = m.basic + 4 * a;
                        int px = bs[1], py = bs[2], pz = bs[3];
                        double ax = pw[px], ay = pw[MAX_POW + py], az = pw[2 * MAX_POW + pz];
                        double ang = ax * ay * az, fv = f[bs[0]];
                        /* d/dr [f(d) g(u)] = u (f' g - n f g / d) + (f / d) grad g */
                        radial += w * ang * (df[bs[0]] - (px + py + pz) * fv * inv_d);
                        double h = w * fv * inv_d;
                        if (px) g[0] += h * px * pw[px - 1] * ay * az;
                        if (py) g[1] += h * py * ax * pw[MAX_POW + py - 1] * az;
                        if (pz) g[2] += h * pz * ax * ay * pw[2 * MAX_POW + pz - 1];
                    }
                    double *gp = grad + 3 * keep[q];
                    for (int a = 0; a < 3; a++) gp[a] = radial * u[a] + g[a];
                    double dvec[3] = {u[0] * s.d[q], u[1] * s.d[q], u[2] * s.d[q]};
                    for (int a = 0; a < 3; a++)
                        for (int c2 = 0; c2 < 3; c2++) vir[3 * a + c2] += gp[a] * dvec[c2];
                }
            }
            /* forces: F_k = sum of its own pairs' dV_k/dr_kj - sum of dV_i/dr_ik over pairs (i, k) */
            #pragma omp for schedule(dynamic, 256)
            for (Py_ssize_t k = 0; k < n; k++) {
                double fx = 0.0, fy = 0.0, fz = 0.0;
                for (int64_t p = sys.first[k]; p < sys.first[k + 1]; p++) {
                    fx += grad[3 * p]; fy += grad[3 * p + 1]; fz += grad[3 * p + 2];
                }
                for (int64_t q = rfirst[k]; q < rfirst[k + 1]; q++) {
                    int64_t p = rpairs[q];
                    fx -= grad[3 * p]; fy -= grad[3 * p + 1]; fz -= grad[3 * p + 2];
                }
                forces[3 * k] = fx; forces[3 * k + 1] = fy; forces[3 * k + 2] = fz;
            }
            free(keep);
        }
        scratch_free(&s);
    }
    Py_END_ALLOW_THREADS
    release(&b);
    if (failed) return PyErr_NoMemory();
    Py_RETURN_NONE;
fail:
    release(&b);
    return NULL;
}

/* site_rows(model..., positions, types, first, j, offsets, centres (c,) i4, rows (c, n_params) out, width,
 * threads): dV_i/dtheta in MLIP's parameter order (radial, species, moment coefficients). */
static PyObject *py_site_rows(PyObject *self, PyObject *args)
{
    PyObject *o_rad, *o_sc, *o_mc, *o_basic, *o_times, *o_map, *o_dims, *o_dist;
    PyObject *o_pos, *o_types, *o_first, *o_j, *o_off, *o_centres, *o_rows;
    long width;
    int threads;
    if (!PyArg_ParseTuple(args, "OOOOOOOOOOOOOOOli", &o_rad, &o_sc, &o_mc, &o_basic, &o_times, &o_map, &o_dims,
                          &o_dist, &o_pos, &o_types, &o_first, &o_j, &o_off, &o_centres, &o_rows, &width, &threads))
        return NULL;
    Buffers b = {.count = 0};
    Model m;
    System sys;
    Py_ssize_t nc, nrows;
    int32_t *centres = NULL;
    double *rows = NULL;
    if (parse_model(&b, &m, o_rad, o_sc, o_mc, o_basic, o_times, o_map, o_dims, o_dist) < 0) goto fail;
    if (!(sys.pos = get_buf(&b, o_pos, 8, 0, NULL, "positions"))) goto fail;
    if (!(sys.types = get_buf(&b, o_types, 4, 0, NULL, "types"))) goto fail;
    if (!(sys.first = get_buf(&b, o_first, 8, 0, NULL, "first"))) goto fail;
    if (!(sys.js = get_buf(&b, o_j, 4, 0, NULL, "j"))) goto fail;
    if (!(sys.offsets = get_buf(&b, o_off, 8, 0, NULL, "offsets"))) goto fail;
    if (!(centres = get_buf(&b, o_centres, 4, 0, &nc, "centres"))) goto fail;
    if (!(rows = get_buf(&b, o_rows, 8, 1, &nrows, "rows"))) goto fail;
    const int S = m.S, R = m.R, K = m.K;
    const Py_ssize_t nrad = (Py_ssize_t)S * S * R * K, np_ = nrad + S + m.ns;
    if (nrows != nc * np_) {
        PyErr_SetString(PyExc_ValueError, "rows must have shape (len(centres), n_params)");
        goto fail;
    }
    int failed = 0;
    Py_BEGIN_ALLOW_THREADS
    #pragma omp parallel num_threads(set_threads(threads)) reduction(| : failed) if (nc >= MIN_PARALLEL)
    {
        Scratch s;
        if (scratch_alloc(&s, &m, width) < 0) {
            failed = 1;
        }
        else {
            #pragma omp for schedule(dynamic, 64)
            for (Py_ssize_t q = 0; q < nc; q++) {
                int i = centres[q], ti = sys.types[i];
                double *row = rows + q * np_;
                memset(row, 0, sizeof(double) * np_);
                int c = centre_moments(&m, &sys, i, &s, NULL, 0);
                centre_backprop(&m, &s, ti);
                double *radial = row + (size_t)ti * S * R * K;
                for (int p = 0; p < c; p++) {
                    const double *pw = s.pw + (size_t)p * 3 * MAX_POW, *Q = s.Q + (size_t)p * K;
                    memset(s.w, 0, sizeof(double) * R);
                    for (int a = 0; a < m.nb; a++) {
                        const int32_t *bs = m.basic + 4 * a;
                        s.w[bs[0]] += s.dM[a] * pw[bs[1]] * pw[MAX_POW + bs[2]] * pw[2 * MAX_POW + bs[3]];
                    }
                    double *block = radial + (size_t)s.tj[p] * R * K;
                    for (int mu = 0; mu < R; mu++)
                        for (int k = 0; k < K; k++) block[mu * K + k] += s.w[mu] * Q[k];
                }
                row[nrad + ti] = 1.0;
                for (int z = 0; z < m.ns; z++) row[nrad + S + z] = s.M[m.mapping[z]];
            }
        }
        scratch_free(&s);
    }
    Py_END_ALLOW_THREADS
    release(&b);
    if (failed) return PyErr_NoMemory();
    Py_RETURN_NONE;
fail:
    release(&b);
    return NULL;
}

/* ---------------------------------------------------------------------------------------------------------------
 * MaxVol helpers: rank-one updates and the largest |entry| of a C-contiguous matrix, threaded over rows
 * (memory-bound passes over B A^-1, tens of MB for a large candidate pool). Ties go to the smallest flat index,
 * as BLAS idamax does, so the swap sequence does not depend on the thread count.
 * ------------------------------------------------------------------------------------------------------------- */
typedef struct {
    double value;
    long index;
} Best;

static inline void best_merge(Best *into, Best other)
{
    if (other.index < 0) return;
    if (into->index < 0 || other.value > into->value || (other.value == into->value && other.index < into->index))
        *into = other;
}

/* rows [0, m) of A (m, n): optionally A += alpha x y^T first (x NULL: no update), skipping row `skip` entirely;
 * returns the largest |A_rc| among the rows visited */
static Best update_and_scan(double *A, long m, long n, const double *x, const double *y, double alpha, long skip,
                            int threads)
{
    Best best = {0.0, -1};
    #pragma omp parallel num_threads(set_threads(threads)) if (m * n >= 64 * MIN_PARALLEL * 8)
    {
        Best mine = {0.0, -1};
        #pragma omp for schedule(static)
        for (long r = 0; r < m; r++) {
            if (r == skip) continue;
            double *a = A + r * n;
            if (x) {
                double s = alpha * x[r];
                if (s != 0.0)
                    for (long c = 0; c < n; c++) a[c] += s * y[c];
            }
            for (long c = 0; c < n; c++) {
                double v = fabs(a[c]);
                if (mine.index < 0 || v > mine.value) { mine.value = v; mine.index = r * n + c; }
            }
        }
        #pragma omp critical
        best_merge(&best, mine);
    }
    return best;
}

/* ger_argmax(A (m,n) f8 inout, x (m,) f8 or None, y (n,) f8 or None, alpha, skip_row, threads) -> flat index
 * A += alpha x y^T on every row but `skip_row` (-1: none), then the flat index of the largest |A| over those rows
 * (-1 if there are none). With x None, only the scan. */
static PyObject *py_ger_argmax(PyObject *self, PyObject *args)
{
    PyObject *o_a, *o_x, *o_y;
    double alpha;
    long skip;
    int threads;
    if (!PyArg_ParseTuple(args, "OOOdli", &o_a, &o_x, &o_y, &alpha, &skip, &threads)) return NULL;
    Buffers b = {.count = 0};
    Py_ssize_t size, m = 0, n = 0;
    double *A = get_buf(&b, o_a, 8, 1, &size, "A");
    if (!A) { release(&b); return NULL; }
    if (b.views[0].ndim != 2) {
        release(&b);
        PyErr_SetString(PyExc_ValueError, "A must be a matrix");
        return NULL;
    }
    m = b.views[0].shape ? b.views[0].shape[0] : 0;
    n = b.views[0].shape ? b.views[0].shape[1] : 0;
    double *x = NULL, *y = NULL;
    if (o_x != Py_None) {
        Py_ssize_t nx, ny;
        x = get_buf(&b, o_x, 8, 0, &nx, "x");
        y = x ? get_buf(&b, o_y, 8, 0, &ny, "y") : NULL;
        if (!y || nx != m || ny != n) {
            if (y) PyErr_SetString(PyExc_ValueError, "x and y must match A's rows and columns");
            release(&b);
            return NULL;
        }
    }
    Best best;
    Py_BEGIN_ALLOW_THREADS
    best = update_and_scan(A, m, n, x, y, alpha, skip, threads);
    Py_END_ALLOW_THREADS
    release(&b);
    return PyLong_FromLong(best.index);
}

static PyObject *py_max_threads(PyObject *self, PyObject *args)
{
    return PyLong_FromLong(set_threads(0));
}

static PyMethodDef methods[] = {
    {"neighbours", py_neighbours, METH_VARARGS, "All ordered pairs within the cutoff, grouped by the first atom."},
    {"min_pair", py_min_pair, METH_VARARGS, "The shortest pair of a neighbour list."},
    {"transpose", py_transpose, METH_VARARGS, "Pairs grouped by neighbour atom."},
    {"efs", py_efs, METH_VARARGS, "Site energies, forces, per-atom virials of an MTP."},
    {"site_rows", py_site_rows, METH_VARARGS, "Site-energy Jacobians dV_i/dtheta (MLIP parameter order)."},
    {"ger_argmax", py_ger_argmax, METH_VARARGS, "A += alpha x y^T (all rows but one), then argmax |A| there."},
    {"max_threads", py_max_threads, METH_NOARGS, "Threads a kernel uses by default (OpenMP's)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_kernel", "Compiled, threaded MTP kernels.", -1, methods};

PyMODINIT_FUNC PyInit__kernel(void) { return PyModule_Create(&module); }
