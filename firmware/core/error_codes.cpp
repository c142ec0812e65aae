#include "core/error_codes.hpp"

#include <array>
#include <string>

namespace ck {

ErrorCode err::registry_refused(int status)
{
    // One name per status, made once: ErrorCode holds a view, and these outlive every Status.
    static const std::array<std::string, 600> names = [] {
        std::array<std::string, 600> list;
        for (std::size_t i = 0; i < list.size(); ++i) list[i] = "registry_" + std::to_string(i);
        return list;
    }();
    const std::size_t index = status >= 100 && status < 600 ? static_cast<std::size_t>(status) : 0;
    return {names[index], 502};
}

std::span<const ErrorCode> all_error_codes()
{
#define CK_LIST_ERROR_CODE(name, status) err::name,
    static constexpr ErrorCode codes[] = {CK_ERROR_CODES(CK_LIST_ERROR_CODE)};
#undef CK_LIST_ERROR_CODE
    return codes;
}

}  // namespace ck
