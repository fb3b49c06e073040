/* fastembed: every SIMD level's kernels and the choice among them.
 *
 * The kernels of csrc/impl/ are compiled once per level, each level inside a target region
 * (`#pragma GCC target` / `#pragma clang attribute`), so one build runs on any CPU of its
 * architecture and carries the faster levels for the CPUs that have them:
 *
 *   level     where             vector        notes
 *   generic   every platform    4 floats      portable C; what CPUs without another level run
 *   sse2      x86-64            4 x float32   the x86-64 baseline; 128-bit streaming stores
 *   avx2      x86-64 with AVX2  8 x float32   masked tails, 256-bit streaming stores; needs F16C too
 *                                             (every AVX2 CPU has it) for float16 rows
 *   avx512    x86-64 AVX-512F   16 x float32  one register per 16-lane dot accumulator
 *   avx512vnni  AVX-512 VNNI    16 x float32  avx512 plus vpdpbusd for the int8 index
 *   neon      aarch64           4 x float32   AArch64's baseline (Apple Silicon, Graviton, ...)
 *
 * All levels return the same bits (fixed arithmetic order in the source, -ffp-contract=off).
 * The caller picks one level per process (fastembed._kernels._simd): the best this CPU supports,
 * or FASTEMBED_SIMD.
 *
 * Include this header from ONE translation unit (it defines every level's functions); other
 * units need only csrc/fe_ops.h and a pointer to the chosen table.
 */
#ifndef FE_SIMD_H
#define FE_SIMD_H

#include "fe_ops.h"

#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__) && !defined(FE_SIMD_NO_X86)
#define FE_SIMD_X86 1
#include <immintrin.h>
#else
#define FE_SIMD_X86 0
#endif

#if defined(__aarch64__) && defined(__ARM_NEON) && !defined(FE_SIMD_NO_NEON)
#define FE_SIMD_NEON 1
#include <arm_neon.h>
#else
#define FE_SIMD_NEON 0
#endif

#define FE_CAT_(a, b) a##_##b
#define FE_CAT(a, b) FE_CAT_(a, b)
#define FE_FN(name) FE_CAT(name, FE_LEVEL)

#if defined(__clang__)
#define FE_TARGET_AVX2_BEGIN _Pragma("clang attribute push(__attribute__((target(\"avx2,f16c\"))), apply_to = function)")
#define FE_TARGET_AVX512_BEGIN _Pragma("clang attribute push(__attribute__((target(\"avx512f\"))), apply_to = function)")
#define FE_TARGET_AVX512VNNI_BEGIN _Pragma("clang attribute push(__attribute__((target(\"avx512f,avx512vnni\"))), apply_to = function)")
#define FE_TARGET_END _Pragma("clang attribute pop")
#else
#define FE_TARGET_AVX2_BEGIN _Pragma("GCC push_options") _Pragma("GCC target(\"avx2,f16c\")")
#define FE_TARGET_AVX512_BEGIN _Pragma("GCC push_options") _Pragma("GCC target(\"avx512f\")")
#define FE_TARGET_AVX512VNNI_BEGIN _Pragma("GCC push_options") _Pragma("GCC target(\"avx512f,avx512vnni\")")
#define FE_TARGET_END _Pragma("GCC pop_options")
#endif

/* ---------------------------------------------------------------- the levels */

#include "simd/vec_generic.h"
#include "impl/table.h"
#include "simd/vec_undef.h"

#if FE_SIMD_X86
#include "simd/vec_sse2.h"
#include "impl/table.h"
#include "simd/vec_undef.h"

#if !defined(FE_SIMD_NO_AVX2)
FE_TARGET_AVX2_BEGIN
#include "simd/vec_avx2.h"
#include "impl/table.h"
#include "simd/vec_undef.h"
FE_TARGET_END
#endif

#if !defined(FE_SIMD_NO_AVX512)
FE_TARGET_AVX512_BEGIN
#include "simd/vec_avx512.h"
#include "impl/table.h"
#include "simd/vec_undef.h"
FE_TARGET_END
#if !defined(FE_SIMD_NO_AVX512VNNI)
FE_TARGET_AVX512VNNI_BEGIN
#include "simd/vec_avx512vnni.h"
#include "impl/table.h"
#include "simd/vec_undef.h"
FE_TARGET_END
#endif
#endif
#endif /* FE_SIMD_X86 */

#if FE_SIMD_NEON
#include "simd/vec_neon.h"
#include "impl/table.h"
#include "simd/vec_undef.h"
#endif

/* ---------------------------------------------------------------- which CPU runs which level */

static int fe_cpu_any(void) { return 1; }

#if FE_SIMD_X86
/* __builtin_cpu_supports also checks that the OS saves the wider registers (XCR0). */
static int fe_cpu_avx2(void) { __builtin_cpu_init(); return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("f16c") ? 1 : 0; }
static int fe_cpu_avx512(void) { __builtin_cpu_init(); return __builtin_cpu_supports("avx512f") ? 1 : 0; }
static int fe_cpu_avx512vnni(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vnni") ? 1 : 0;
}
#endif

typedef struct {
    const fe_ops *ops;
    int (*supported)(void);
} fe_simd_level;

/* Compiled levels, worst first: the last supported one is the best. */
static const fe_simd_level fe_simd_levels[] = {
    {&fe_ops_table_generic, fe_cpu_any},
#if FE_SIMD_X86
    {&fe_ops_table_sse2, fe_cpu_any},
#if !defined(FE_SIMD_NO_AVX2)
    {&fe_ops_table_avx2, fe_cpu_avx2},
#endif
#if !defined(FE_SIMD_NO_AVX512)
    {&fe_ops_table_avx512, fe_cpu_avx512},
#if !defined(FE_SIMD_NO_AVX512VNNI)
    {&fe_ops_table_avx512vnni, fe_cpu_avx512vnni},
#endif
#endif
#endif
#if FE_SIMD_NEON
    {&fe_ops_table_neon, fe_cpu_any},
#endif
};

static inline int fe_simd_count(void)
{
    return (int)(sizeof fe_simd_levels / sizeof fe_simd_levels[0]);
}

static inline const fe_ops *fe_simd_ops_at(int i)
{
    return fe_simd_levels[i].ops;
}

static inline int fe_simd_supported_at(int i)
{
    return fe_simd_levels[i].supported();
}

/* The architecture's baseline level: what FASTEMBED_SIMD=default asks for. */
static inline int fe_simd_baseline(void)
{
#if FE_SIMD_X86
    return 1;  /* sse2 */
#elif FE_SIMD_NEON
    return 1;  /* neon */
#else
    return 0;  /* generic */
#endif
}

#endif /* FE_SIMD_H */
