// Floating-point guest for bench/rv64-cpu.ts: an n-body step loop and a dense matrix multiply in double precision
// (round-to-nearest, the common case), plus a single-precision dot product. Passes when the energy stays finite.
#include <stdint.h>

#ifndef ITERATIONS
#define ITERATIONS 40
#endif
#define NB 5
#define N 24

static double px[NB], py[NB], pz[NB], vx[NB], vy[NB], vz[NB], m[NB];
static double A[N][N], B[N][N], C[N][N];
static float fa[256], fb[256];

static double fsqrt(double x) { double r; asm("fsqrt.d %0, %1" : "=f"(r) : "f"(x)); return r; }

static void advance(double dt) {
  for (int i = 0; i < NB; i++)
    for (int j = i + 1; j < NB; j++) {
      double dx = px[i] - px[j], dy = py[i] - py[j], dz = pz[i] - pz[j];
      double d2 = dx * dx + dy * dy + dz * dz;
      double mag = dt / (d2 * fsqrt(d2));
      vx[i] -= dx * m[j] * mag; vy[i] -= dy * m[j] * mag; vz[i] -= dz * m[j] * mag;
      vx[j] += dx * m[i] * mag; vy[j] += dy * m[i] * mag; vz[j] += dz * m[i] * mag;
    }
  for (int i = 0; i < NB; i++) { px[i] += dt * vx[i]; py[i] += dt * vy[i]; pz[i] += dt * vz[i]; }
}

int main(void) {
  for (int i = 0; i < NB; i++) {
    px[i] = i * 1.1; py[i] = i * 0.7 - 1.0; pz[i] = 0.3 * i; vx[i] = 0.01 * i; vy[i] = -0.02; vz[i] = 0.005 * i;
    m[i] = 1.0 + i * 0.25;
  }
  for (int i = 0; i < N; i++)
    for (int j = 0; j < N; j++) { A[i][j] = (i + 1) * 0.5 - j * 0.25; B[i][j] = 1.0 / (i + j + 1); }
  for (int i = 0; i < 256; i++) { fa[i] = i * 0.125f; fb[i] = 1.0f / (i + 1); }
  double check = 0;
  float fsum = 0;
  for (int it = 0; it < ITERATIONS; it++) {
    for (int s = 0; s < 50; s++) advance(0.001);
    for (int i = 0; i < N; i++)
      for (int j = 0; j < N; j++) {
        double acc = 0;
        for (int k = 0; k < N; k++) acc += A[i][k] * B[k][j];
        C[i][j] = acc;
      }
    check += C[it % N][(it * 7) % N];
    for (int i = 0; i < 256; i++) fsum += fa[i] * fb[i];
  }
  double e = 0;
  for (int i = 0; i < NB; i++) e += 0.5 * m[i] * (vx[i] * vx[i] + vy[i] * vy[i] + vz[i] * vz[i]);
  return (e == e && e < 1e300 && check == check && fsum == fsum) ? 0 : 1;
}
