/* fastembed: one SIMD level's dispatch table (see csrc/fe_ops.h), instantiated once per level. */
#include "impl/dot.h"
#include "impl/norms.h"
#include "impl/rows.h"
#include "impl/topk.h"
#include "impl/tile.h"
#include "impl/w2v.h"
#include "impl/fasttext.h"
#include "impl/glove.h"
#include "impl/segment.h"
#include "impl/kinds.h"
#include "impl/pool.h"
#include "impl/int8.h"
#include "impl/layernorm.h"

static const fe_ops FE_FN(fe_ops_table) = {
    .name = FE_LEVEL_NAME,
    .vector_floats = FV_W,
    .streaming_stores = FV_HAVE_STREAM,
    .kind = FE_KIND_TABLE,
    .stream_fence = FE_FN(fe_stream_fence),
    .acc_row = FE_FN(fe_acc_row),
    .axpy = FE_FN(fe_axpy),
    .dot = FE_FN(fe_dot),
    .sumsq = FE_FN(fe_sumsq),
    .merge_scores = FE_FN(fe_merge_scores),
    .merge_combined = FE_FN(fe_merge_combined),
    .bag_range = FE_FN(fe_bag_range),
    .bag_backward_rows = FE_FN(fe_bag_backward_rows),
    .bag_max_backward_cols = FE_FN(fe_bag_max_backward_cols),
    .dots_block = FE_FN(fe_dots_block),
    .w2v_sentence = FE_FN(fe_w2v_sentence),
    .w2v_cbow_sentence = FE_FN(fe_w2v_cbow_sentence),
    .ft_mean_range = FE_FN(fe_ft_mean_range),
    .ft_sg_sentence = FE_FN(fe_ft_sg_sentence),
    .ft_cbow_sentence = FE_FN(fe_ft_cbow_sentence),
    .glove_train = FE_FN(fe_glove_train),
    .segment_sum = FE_FN(fe_segment_sum),
    .i8_quantize = FE_FN(fe_i8_quantize),
    .i8_scan = FE_FN(fe_i8_scan),
    .i8_rescore = FE_FN(fe_i8_rescore),
    .i8_kernel = FE_FN(fe_i8_kernel),
    .hx_build = FE_FN(fe_hx_build),
    .hx_scan_f16 = FE_FN(fe_hx_scan_f16),
    .hx_scan_bf16 = FE_FN(fe_hx_scan_bf16),
    .embed_ln_range = FE_FN(fe_embed_ln_range),
};
