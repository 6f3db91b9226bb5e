/* Energies, forces, virials of one configuration and their exact Jacobians with respect to every MTP
 * parameter, for training (seilearn.mtp.fit_kernels wraps it).
 *
 * motep's training kernel materialises d(basic moment)/d(radial coefficient) for every species and
 * radial function, most of them structurally zero, plus radial-basis arrays we never use; here each
 * neighbour touches only its own species' coefficients, and the force and virial rows of the residual
 * Jacobian are written in place, so one call gives what a Gauss-Newton step needs.
 *
 * Parameter order (motep's): moment coefficients (n_scalar), species coefficients (spc), radial
 * coefficients (spc, spc, rfc, rbs) in C order. Neighbours come as a CSR list grouped by centre atom:
 * offsets[N+1], neighbour index js[P], vectors rs[P][3] = r_j - r_i.
 *
 * Outputs (zeroed by the caller): energy[1], forces[N][3], virial[3][3] = sum_k dE/dr_k (x) r_k, and
 * when jac_e is given also jac_e[n_par] = dE/dtheta, jac_f[N*3][n_par] = dF/dtheta, jac_v[9][n_par] =
 * d virial / dtheta. Only Python's buffer protocol is used, so no NumPy headers are needed to build.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int n_atoms, rbs, spc, rfc, nb, nt, nam, nasm, n_par;
    double scaling, rmin, rmax;
    const double *rc, *sc, *mc;
    const int *aib, *ait, *amap, *types, *offsets, *js;
    const double *rs;
} Model;

static void chebyshev(double r, const Model *m, double *q, double *dq)
{
    double x = 2.0 * (r - m->rmin) / (m->rmax - m->rmin) - 1.0;
    double sf = 2.0 / (m->rmax - m->rmin);
    double diff = m->rmax - r;
    double s = diff > 0.0 ? m->scaling * diff * diff : 0.0;
    double ds = diff > 0.0 ? -2.0 * m->scaling * diff : 0.0;
    q[0] = s;
    dq[0] = ds;
    if (m->rbs > 1) {
        q[1] = x * s;
        dq[1] = sf * s + x * ds;
    }
    for (int b = 2; b < m->rbs; b++) {
        q[b] = 2.0 * x * q[b - 1] - q[b - 2];
        dq[b] = 2.0 * q[b - 1] * sf + 2.0 * x * dq[b - 1] - dq[b - 2];
    }
}

static double ipow(double x, int p)
{
    double r = 1.0;
    for (int k = 0; k < p; k++)
        r *= x;
    return r;
}

/* Work buffers sized for the largest neighbour count. */
typedef struct {
    double *q, *dq, *f, *df, *ang, *U, *V, *J, *D, *M, *g, *Mc, *W, *Wi, *gU, *gV;
} Work;

static int work_alloc(Work *w, const Model *m, int kmax, int jac)
{
    size_t K = (size_t)(kmax > 0 ? kmax : 1);
    size_t nam = (size_t)m->nam, nb = (size_t)m->nb, rbs = (size_t)m->rbs, rfc = (size_t)m->rfc;
    size_t spc = (size_t)m->spc;
    memset(w, 0, sizeof(*w));
    w->q = malloc(sizeof(double) * K * rbs);
    w->dq = malloc(sizeof(double) * K * rbs);
    w->f = malloc(sizeof(double) * K * rfc);
    w->df = malloc(sizeof(double) * K * rfc);
    w->ang = malloc(sizeof(double) * K * nb);
    w->U = malloc(sizeof(double) * K * nb * 3);
    w->V = malloc(sizeof(double) * K * nb * 3);
    w->J = malloc(sizeof(double) * K * nam * 3);
    w->M = malloc(sizeof(double) * nam);
    w->g = malloc(sizeof(double) * nam);
    int ok = w->q && w->dq && w->f && w->df && w->ang && w->U && w->V && w->J && w->M && w->g;
    if (jac) {
        w->D = malloc(sizeof(double) * K * nam * 3);
        w->Mc = malloc(sizeof(double) * nb * spc * rbs);
        w->W = malloc(sizeof(double) * spc * rfc * rbs * 3);
        w->Wi = malloc(sizeof(double) * spc * rfc * rbs * 3);
        w->gU = malloc(sizeof(double) * rfc * 3);
        w->gV = malloc(sizeof(double) * rfc * 3);
        ok = ok && w->D && w->Mc && w->W && w->Wi && w->gU && w->gV;
    }
    return ok;
}

static void work_free(Work *w)
{
    double *p[] = {w->q, w->dq, w->f, w->df, w->ang, w->U, w->V, w->J, w->D, w->M, w->g, w->Mc, w->W, w->Wi,
                   w->gU, w->gV};
    for (size_t k = 0; k < sizeof(p) / sizeof(p[0]); k++)
        free(p[k]);
}

static void run(const Model *m, Work *w, double *energy, double *forces, double *virial, double *jac_e,
                double *jac_f, double *jac_v)
{
    const int rbs = m->rbs, spc = m->spc, rfc = m->rfc, nb = m->nb, nt = m->nt, nam = m->nam;
    const int nasm = m->nasm, P = m->n_par;
    const int off_r = nasm + spc; /* first radial column */
    const int nrad = spc * rfc * rbs; /* radial columns of one centre species */
    double etot = 0.0;
    for (int i = 0; i < m->n_atoms; i++) {
        const int ti = m->types[i];
        const int p0 = m->offsets[i], K = m->offsets[i + 1] - p0;
        const double *rc_i = m->rc + (size_t)ti * spc * rfc * rbs;
        /* radial basis and radial functions of every neighbour */
        for (int k = 0; k < K; k++) {
            const double *r = m->rs + 3 * (size_t)(p0 + k);
            double d = sqrt(r[0] * r[0] + r[1] * r[1] + r[2] * r[2]);
            double *q = w->q + (size_t)k * rbs, *dq = w->dq + (size_t)k * rbs;
            chebyshev(d, m, q, dq);
            int tj = m->types[m->js[p0 + k]];
            for (int mu = 0; mu < rfc; mu++) {
                const double *c = rc_i + ((size_t)tj * rfc + mu) * rbs;
                double s = 0.0, ds = 0.0;
                for (int b = 0; b < rbs; b++) {
                    s += c[b] * q[b];
                    ds += c[b] * dq[b];
                }
                w->f[k * rfc + mu] = s;
                w->df[k * rfc + mu] = ds;
            }
        }
        /* basic moments, their derivatives w.r.t. r_k, and (for the Jacobian) w.r.t. radial coefficients */
        memset(w->M, 0, sizeof(double) * nam);
        memset(w->J, 0, sizeof(double) * (size_t)nam * K * 3);
        if (jac_e)
            memset(w->Mc, 0, sizeof(double) * (size_t)nb * spc * rbs);
        for (int a = 0; a < nb; a++) {
            const int mu = m->aib[4 * a], px = m->aib[4 * a + 1], py = m->aib[4 * a + 2], pz = m->aib[4 * a + 3];
            const int n = px + py + pz;
            double Ma = 0.0;
            for (int k = 0; k < K; k++) {
                const double *r = m->rs + 3 * (size_t)(p0 + k);
                double d = sqrt(r[0] * r[0] + r[1] * r[1] + r[2] * r[2]);
                double ux = 0.0, uy = 0.0, uz = 0.0, inv = 0.0;
                if (d > 1e-10) {
                    inv = 1.0 / d;
                    ux = r[0] * inv;
                    uy = r[1] * inv;
                    uz = r[2] * inv;
                }
                double ax = ipow(ux, px), ay = ipow(uy, py), az = ipow(uz, pz);
                double ang = ax * ay * az;
                /* d ang / d r = (grad_u ang - n ang u) / d */
                double gx = px ? px * ipow(ux, px - 1) * ay * az : 0.0;
                double gy = py ? py * ax * ipow(uy, py - 1) * az : 0.0;
                double gz = pz ? pz * ax * ay * ipow(uz, pz - 1) : 0.0;
                double *U = w->U + ((size_t)a * K + k) * 3, *V = w->V + ((size_t)a * K + k) * 3;
                U[0] = ang * ux;
                U[1] = ang * uy;
                U[2] = ang * uz;
                V[0] = (gx - n * ang * ux) * inv;
                V[1] = (gy - n * ang * uy) * inv;
                V[2] = (gz - n * ang * uz) * inv;
                w->ang[(size_t)a * K + k] = ang;
                double fv = w->f[k * rfc + mu], dfv = w->df[k * rfc + mu];
                Ma += fv * ang;
                double *J = w->J + ((size_t)a * K + k) * 3;
                J[0] = dfv * U[0] + fv * V[0];
                J[1] = dfv * U[1] + fv * V[1];
                J[2] = dfv * U[2] + fv * V[2];
                if (jac_e) {
                    int tj = m->types[m->js[p0 + k]];
                    double *mc = w->Mc + ((size_t)a * spc + tj) * rbs;
                    const double *q = w->q + (size_t)k * rbs;
                    for (int b = 0; b < rbs; b++)
                        mc[b] += q[b] * ang;
                }
            }
            w->M[a] = Ma;
        }
        /* contractions: values, then (Jacobian only) derivatives of every moment w.r.t. r_k */
        for (int t = 0; t < nt; t++) {
            const int *x = m->ait + 4 * t;
            w->M[x[3]] += x[2] * w->M[x[0]] * w->M[x[1]];
        }
        if (jac_e) {
            for (int t = 0; t < nt; t++) {
                const int *x = m->ait + 4 * t;
                double m1 = x[2] * w->M[x[0]], m2 = x[2] * w->M[x[1]];
                double *J1 = w->J + (size_t)x[0] * K * 3, *J2 = w->J + (size_t)x[1] * K * 3;
                double *J3 = w->J + (size_t)x[3] * K * 3;
                for (int kk = 0; kk < 3 * K; kk++)
                    J3[kk] += m1 * J2[kk] + m2 * J1[kk];
            }
        }
        /* site energy and its gradient with respect to every moment (reverse through contractions) */
        double v = m->sc[ti];
        memset(w->g, 0, sizeof(double) * nam);
        for (int s = 0; s < nasm; s++) {
            v += m->mc[s] * w->M[m->amap[s]];
            w->g[m->amap[s]] += m->mc[s];
        }
        etot += v;
        for (int t = nt - 1; t >= 0; t--) {
            const int *x = m->ait + 4 * t;
            double gm = x[2] * w->g[x[3]];
            w->g[x[0]] += gm * w->M[x[1]];
            w->g[x[1]] += gm * w->M[x[0]];
        }
        /* forces and virial: G_k = dV_i/dr_k = sum_a g_a J_a(k) over basic moments */
        for (int k = 0; k < K; k++) {
            double G[3] = {0.0, 0.0, 0.0};
            for (int a = 0; a < nb; a++) {
                const double *J = w->J + ((size_t)a * K + k) * 3;
                G[0] += w->g[a] * J[0];
                G[1] += w->g[a] * J[1];
                G[2] += w->g[a] * J[2];
            }
            const int j = m->js[p0 + k];
            const double *r = m->rs + 3 * (size_t)(p0 + k);
            for (int c = 0; c < 3; c++) {
                forces[3 * i + c] += G[c];
                forces[3 * j + c] -= G[c];
                for (int e = 0; e < 3; e++)
                    virial[3 * c + e] += G[c] * r[e];
            }
        }
        if (!jac_e)
            continue;
        /* energy row */
        for (int s = 0; s < nasm; s++)
            jac_e[s] += w->M[m->amap[s]];
        jac_e[nasm + ti] += 1.0;
        for (int a = 0; a < nb; a++) {
            const int mu = m->aib[4 * a];
            for (int t = 0; t < spc; t++) {
                double *je = jac_e + off_r + (((size_t)ti * spc + t) * rfc + mu) * rbs;
                const double *mc = w->Mc + ((size_t)a * spc + t) * rbs;
                for (int b = 0; b < rbs; b++)
                    je[b] += w->g[a] * mc[b];
            }
        }
        /* force and virial rows, moment coefficients: dV/dxi_s = B_s, so d G_k / d xi_s = J_{amap[s]}(k) */
        for (int k = 0; k < K; k++) {
            const int j = m->js[p0 + k];
            const double *r = m->rs + 3 * (size_t)(p0 + k);
            for (int s = 0; s < nasm; s++) {
                const double *J = w->J + ((size_t)m->amap[s] * K + k) * 3;
                for (int c = 0; c < 3; c++) {
                    jac_f[(size_t)(3 * i + c) * P + s] += J[c];
                    jac_f[(size_t)(3 * j + c) * P + s] -= J[c];
                    for (int e = 0; e < 3; e++)
                        jac_v[(size_t)(3 * c + e) * P + s] += J[c] * r[e];
                }
            }
        }
        /* radial coefficients: D_a(k) = sum_a' H_{a a'} J_a'(k), reverse-over-forward through contractions */
        memset(w->D, 0, sizeof(double) * (size_t)nam * K * 3);
        for (int t = 0; t < nt; t++) {
            const int *x = m->ait + 4 * t;
            double gm = x[2] * w->g[x[3]];
            double *D1 = w->D + (size_t)x[0] * K * 3, *D2 = w->D + (size_t)x[1] * K * 3;
            const double *J1 = w->J + (size_t)x[0] * K * 3, *J2 = w->J + (size_t)x[1] * K * 3;
            for (int kk = 0; kk < 3 * K; kk++) {
                D1[kk] += gm * J2[kk];
                D2[kk] += gm * J1[kk];
            }
        }
        for (int t = nt - 1; t >= 0; t--) {
            const int *x = m->ait + 4 * t;
            double m1 = x[2] * w->M[x[0]], m2 = x[2] * w->M[x[1]];
            double *D1 = w->D + (size_t)x[0] * K * 3, *D2 = w->D + (size_t)x[1] * K * 3;
            const double *D3 = w->D + (size_t)x[3] * K * 3;
            for (int kk = 0; kk < 3 * K; kk++) {
                D1[kk] += m2 * D3[kk];
                D2[kk] += m1 * D3[kk];
            }
        }
        memset(w->Wi, 0, sizeof(double) * (size_t)nrad * 3);
        for (int k = 0; k < K; k++) {
            const int j = m->js[p0 + k], tj = m->types[j];
            const double *r = m->rs + 3 * (size_t)(p0 + k);
            /* W[c][t][mu][b] = d G_k[c] / d c[ti][t][mu][b]; component-major so the scatters below are contiguous */
            memset(w->W, 0, sizeof(double) * (size_t)nrad * 3);
            for (int a = 0; a < nb; a++) {
                const int mu = m->aib[4 * a];
                const double *Da = w->D + ((size_t)a * K + k) * 3;
                for (int t = 0; t < spc; t++) {
                    const double *mc = w->Mc + ((size_t)a * spc + t) * rbs;
                    const size_t o = ((size_t)t * rfc + mu) * rbs;
                    for (int c = 0; c < 3; c++) {
                        double *Wt = w->W + (size_t)c * nrad + o;
                        const double dc = Da[c];
                        for (int b = 0; b < rbs; b++)
                            Wt[b] += mc[b] * dc;
                    }
                }
            }
            memset(w->gU, 0, sizeof(double) * rfc * 3);
            memset(w->gV, 0, sizeof(double) * rfc * 3);
            for (int a = 0; a < nb; a++) {
                const int mu = m->aib[4 * a];
                const double *U = w->U + ((size_t)a * K + k) * 3, *V = w->V + ((size_t)a * K + k) * 3;
                for (int c = 0; c < 3; c++) {
                    w->gU[3 * mu + c] += w->g[a] * U[c];
                    w->gV[3 * mu + c] += w->g[a] * V[c];
                }
            }
            const double *q = w->q + (size_t)k * rbs, *dq = w->dq + (size_t)k * rbs;
            for (int mu = 0; mu < rfc; mu++) {
                for (int c = 0; c < 3; c++) {
                    double *Wt = w->W + (size_t)c * nrad + ((size_t)tj * rfc + mu) * rbs;
                    const double gu = w->gU[3 * mu + c], gv = w->gV[3 * mu + c];
                    for (int b = 0; b < rbs; b++)
                        Wt[b] += dq[b] * gu + q[b] * gv;
                }
            }
            /* scatter: F_i += G_k, F_j -= G_k */
            const size_t col = (size_t)off_r + (size_t)ti * nrad;
            for (int c = 0; c < 3; c++) {
                double *fj = jac_f + (size_t)(3 * j + c) * P + col;
                const double *Wc = w->W + (size_t)c * nrad;
                double *Wic = w->Wi + (size_t)c * nrad;
                for (int p = 0; p < nrad; p++) {
                    Wic[p] += Wc[p];
                    fj[p] -= Wc[p];
                }
            }
            /* virial += G_k (x) r_k: here the neighbour's own-species term; the moment term is summed over k below */
            for (int mu = 0; mu < rfc; mu++) {
                const size_t o = ((size_t)tj * rfc + mu) * rbs;
                for (int c = 0; c < 3; c++) {
                    const double gu = w->gU[3 * mu + c], gv = w->gV[3 * mu + c];
                    for (int e = 0; e < 3; e++) {
                        double *vv = jac_v + (size_t)(3 * c + e) * P + col + o;
                        const double gue = gu * r[e], gve = gv * r[e];
                        for (int b = 0; b < rbs; b++)
                            vv[b] += dq[b] * gue + q[b] * gve;
                    }
                }
            }
        }
        /* virial, moment term: sum_k D_a(k) (x) r_k contracted with d M_a / d c once per atom */
        {
            const size_t col = (size_t)off_r + (size_t)ti * nrad;
            for (int a = 0; a < nb; a++) {
                const int mu = m->aib[4 * a];
                double DR[9] = {0.0};
                for (int k = 0; k < K; k++) {
                    const double *Da = w->D + ((size_t)a * K + k) * 3;
                    const double *r = m->rs + 3 * (size_t)(p0 + k);
                    for (int c = 0; c < 3; c++)
                        for (int e = 0; e < 3; e++)
                            DR[3 * c + e] += Da[c] * r[e];
                }
                for (int t = 0; t < spc; t++) {
                    const double *mc = w->Mc + ((size_t)a * spc + t) * rbs;
                    const size_t o = ((size_t)t * rfc + mu) * rbs;
                    for (int ce = 0; ce < 9; ce++) {
                        double *vv = jac_v + (size_t)ce * P + col + o;
                        const double d = DR[ce];
                        for (int b = 0; b < rbs; b++)
                            vv[b] += mc[b] * d;
                    }
                }
            }
        }
        for (int c = 0; c < 3; c++) {
            double *fi = jac_f + (size_t)(3 * i + c) * P + off_r + (size_t)ti * nrad;
            const double *Wic = w->Wi + (size_t)c * nrad;
            for (int p = 0; p < nrad; p++)
                fi[p] += Wic[p];
        }
    }
    energy[0] = etot;
}

static int check(Py_buffer *b, Py_ssize_t n_items, Py_ssize_t item, const char *name)
{
    if (b->len < n_items * item) {
        PyErr_Format(PyExc_ValueError, "%s: buffer holds %zd bytes, need %zd", name, b->len, n_items * item);
        return 0;
    }
    return 1;
}

static PyObject *evaluate(PyObject *self, PyObject *args)
{
    /* dims: n_atoms, rbs, spc, rfc, nb, nt, nam, nasm; model: scaling, rmin, rmax */
    Py_buffer dims = {0}, rc = {0}, sc = {0}, mc = {0}, aib = {0}, ait = {0}, amap = {0}, types = {0}, offs = {0},
              js = {0}, rs = {0}, en = {0}, fo = {0}, vi = {0}, je = {0}, jf = {0}, jv = {0};
    double scaling, rmin, rmax;
    PyObject *jeo, *jfo, *jvo;
    if (!PyArg_ParseTuple(args, "y*dddy*y*y*y*y*y*y*y*y*y*w*w*w*OOO", &dims, &scaling, &rmin, &rmax, &rc, &sc, &mc,
                          &aib, &ait, &amap, &types, &offs, &js, &rs, &en, &fo, &vi, &jeo, &jfo, &jvo))
        return NULL;
    PyObject *result = NULL;
    int want_jac = jeo != Py_None;
    Work w;
    int have_work = 0;
    if (want_jac && (PyObject_GetBuffer(jeo, &je, PyBUF_WRITABLE) < 0 || PyObject_GetBuffer(jfo, &jf, PyBUF_WRITABLE) < 0 ||
                     PyObject_GetBuffer(jvo, &jv, PyBUF_WRITABLE) < 0))
        goto done;
    if (!check(&dims, 8, sizeof(int), "dims"))
        goto done;
    const int *d = dims.buf;
    Model m = {d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7], d[7] + d[2] + d[2] * d[2] * d[3] * d[1],
               scaling, rmin, rmax, rc.buf, sc.buf, mc.buf, aib.buf, ait.buf, amap.buf, types.buf, offs.buf, js.buf,
               rs.buf};
    const int *o = offs.buf;
    if (!check(&offs, m.n_atoms + 1, sizeof(int), "offsets") || !check(&types, m.n_atoms, sizeof(int), "types") ||
        !check(&rc, (Py_ssize_t)m.spc * m.spc * m.rfc * m.rbs, sizeof(double), "radial_coeffs") ||
        !check(&sc, m.spc, sizeof(double), "species_coeffs") || !check(&mc, m.nasm, sizeof(double), "moment_coeffs") ||
        !check(&aib, 4 * m.nb, sizeof(int), "alpha_index_basic") || !check(&ait, 4 * m.nt, sizeof(int), "alpha_index_times") ||
        !check(&amap, m.nasm, sizeof(int), "alpha_moment_mapping") || !check(&en, 1, sizeof(double), "energy") ||
        !check(&fo, 3 * m.n_atoms, sizeof(double), "forces") || !check(&vi, 9, sizeof(double), "virial"))
        goto done;
    int n_pairs = o[m.n_atoms];
    if (!check(&js, n_pairs, sizeof(int), "js") || !check(&rs, 3 * n_pairs, sizeof(double), "rs"))
        goto done;
    if (want_jac && (!check(&je, m.n_par, sizeof(double), "jac_e") ||
                     !check(&jf, (Py_ssize_t)3 * m.n_atoms * m.n_par, sizeof(double), "jac_f") ||
                     !check(&jv, 9 * m.n_par, sizeof(double), "jac_v")))
        goto done;
    int kmax = 0;
    for (int i = 0; i < m.n_atoms; i++)
        if (o[i + 1] - o[i] > kmax)
            kmax = o[i + 1] - o[i];
    if (!work_alloc(&w, &m, kmax, want_jac)) {
        have_work = 1;
        PyErr_NoMemory();
        goto done;
    }
    have_work = 1;
    Py_BEGIN_ALLOW_THREADS
    run(&m, &w, en.buf, fo.buf, vi.buf, want_jac ? je.buf : NULL, want_jac ? jf.buf : NULL, want_jac ? jv.buf : NULL);
    Py_END_ALLOW_THREADS
    result = Py_None;
    Py_INCREF(result);
done:
    if (have_work)
        work_free(&w);
    Py_buffer *bufs[] = {&dims, &rc, &sc, &mc, &aib, &ait, &amap, &types, &offs, &js, &rs, &en, &fo, &vi, &je, &jf, &jv};
    for (size_t k = 0; k < sizeof(bufs) / sizeof(bufs[0]); k++)
        if (bufs[k]->obj)
            PyBuffer_Release(bufs[k]);
    return result;
}

static PyMethodDef methods[] = {
    {"evaluate", evaluate, METH_VARARGS,
     "evaluate(dims, scaling, rmin, rmax, radial, species, moment, alpha_index_basic, alpha_index_times, "
     "alpha_moment_mapping, types, offsets, js, rs, energy_out, forces_out, virial_out, jac_e, jac_f, jac_v)"},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_fitkernel",
                                    "Compiled MTP training kernel (energies, forces, virials, parameter Jacobians).",
                                    -1, methods};

PyMODINIT_FUNC PyInit__fitkernel(void) { return PyModule_Create(&module); }
