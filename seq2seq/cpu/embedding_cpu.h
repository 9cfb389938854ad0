// CPU bodies of ops/embedding.h over raw row-major buffers.
#pragma once

#include <cstdint>

namespace s2s::cpu {

// The position of the first id outside [0, v), or -1 when all are valid.
int64_t first_invalid_id(const int32_t* ids, int64_t n, int64_t v);

// ids must be valid (see first_invalid_id). out: [n, e]; table, dtable: [v, e].
template <typename T>
void embedding_fwd(const T* table, const int32_t* ids, int64_t n, int64_t e, int32_t pad_id,
                   T* out);
template <typename T>
void embedding_bwd(const int32_t* ids, const T* dout, int64_t n, int64_t e, int32_t pad_id,
                   T* dtable);

}  // namespace s2s::cpu
