/* fastembed: the OpenMP facts the kernels need, with a one-thread fallback when the build has no
 * OpenMP (setup.py defines FE_OPENMP after its probe compiled and ran an OpenMP program). */
#ifndef FE_OMP_H
#define FE_OMP_H

#if defined(FE_OPENMP)
#include <omp.h>
static inline int fe_openmp_enabled(void) { return 1; }
static inline int fe_omp_max_threads(void) { return omp_get_max_threads(); }
static inline int fe_omp_thread_num(void) { return omp_get_thread_num(); }
#else
static inline int fe_openmp_enabled(void) { return 0; }
static inline int fe_omp_max_threads(void) { return 1; }
static inline int fe_omp_thread_num(void) { return 0; }
#endif

#endif /* FE_OMP_H */
