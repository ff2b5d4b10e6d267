// "Integer-only by construction", checked by the compiler: integer_only<T>() is true when every
// data member of T, recursively, is an integral type, a dyadic pair, or a std::vector of such —
// no float, double, or anything else. A struct takes part by stating its number of data members
// (`static constexpr int kMembers`); the check reads the members' types with a structured binding
// of exactly that many names, which does not compile if the count is wrong, so a member added
// later (a float scale, say) cannot slip past: the count must change, and then its type is seen.
#pragma once
#include <cstdint>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/integer/dyadic.h"
#include "core/integer/int_attention.h"

namespace lmul::quant {

// The number of data members of T, for the aggregates of core/integer that cannot state it.
template <class T>
struct member_count {};
template <class T>
requires requires { T::kMembers; }
struct member_count<T> {
  static constexpr int value = T::kMembers;
};
template <>
struct member_count<integer::Dyadic> {
  static constexpr int value = 2;
};
template <>
struct member_count<integer::IntAttentionHead> {
  static constexpr int value = 3;
};

namespace detail {
template <class T>
struct is_vector : std::false_type {};
template <class U, class A>
struct is_vector<std::vector<U, A>> : std::true_type {
  using element = U;
};
template <class T>
concept counted = requires {
  member_count<T>::value;
};

// std::type_identity<std::tuple<member types...>> of a T with N data members (unevaluated).
template <class... M>
auto types_of(M&...) {
  return std::type_identity<std::tuple<std::remove_cvref_t<M>...>>{};
}
template <int N, class T>
auto member_types(T& t) {
  static_assert(N >= 1 && N <= 16, "integer_only: 1 to 16 data members");
  if constexpr (N == 1) {
    auto& [a0] = t;
    return types_of(a0);
  } else if constexpr (N == 2) {
    auto& [a0, a1] = t;
    return types_of(a0, a1);
  } else if constexpr (N == 3) {
    auto& [a0, a1, a2] = t;
    return types_of(a0, a1, a2);
  } else if constexpr (N == 4) {
    auto& [a0, a1, a2, a3] = t;
    return types_of(a0, a1, a2, a3);
  } else if constexpr (N == 5) {
    auto& [a0, a1, a2, a3, a4] = t;
    return types_of(a0, a1, a2, a3, a4);
  } else if constexpr (N == 6) {
    auto& [a0, a1, a2, a3, a4, a5] = t;
    return types_of(a0, a1, a2, a3, a4, a5);
  } else if constexpr (N == 7) {
    auto& [a0, a1, a2, a3, a4, a5, a6] = t;
    return types_of(a0, a1, a2, a3, a4, a5, a6);
  } else if constexpr (N == 8) {
    auto& [a0, a1, a2, a3, a4, a5, a6, a7] = t;
    return types_of(a0, a1, a2, a3, a4, a5, a6, a7);
  } else if constexpr (N == 9) {
    auto& [a0, a1, a2, a3, a4, a5, a6, a7, a8] = t;
    return types_of(a0, a1, a2, a3, a4, a5, a6, a7, a8);
  } else if constexpr (N == 10) {
    auto& [a0, a1, a2, a3, a4, a5, a6, a7, a8, a9] = t;
    return types_of(a0, a1, a2, a3, a4, a5, a6, a7, a8, a9);
  } else if constexpr (N == 11) {
    auto& [a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10] = t;
    return types_of(a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10);
  } else if constexpr (N == 12) {
    auto& [a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11] = t;
    return types_of(a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11);
  } else if constexpr (N == 13) {
    auto& [a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12] = t;
    return types_of(a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12);
  } else if constexpr (N == 14) {
    auto& [a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13] = t;
    return types_of(a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13);
  } else if constexpr (N == 15) {
    auto& [a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14] = t;
    return types_of(a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14);
  } else if constexpr (N == 16) {
    auto& [a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15] = t;
    return types_of(a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15);
  }
}
}  // namespace detail

template <class T>
constexpr bool integer_only() {
  if constexpr (std::is_integral_v<T>) {
    return true;
  } else if constexpr (detail::is_vector<T>::value) {
    return integer_only<typename detail::is_vector<T>::element>();
  } else if constexpr (std::is_class_v<T> && detail::counted<T>) {
    using Members = typename decltype(detail::member_types<member_count<T>::value>(std::declval<T&>()))::type;
    return []<class... U>(std::type_identity<std::tuple<U...>>) {
      return (integer_only<U>() && ...);
    }(std::type_identity<Members>{});
  } else {
    return false;  // floating point, pointers, strings, anything not stated integer
  }
}

}  // namespace lmul::quant
