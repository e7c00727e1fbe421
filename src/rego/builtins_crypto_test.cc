#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "rego/builtins.h"
#include "rego/builtins_test_util.h"

namespace mcpgw::rego {
namespace {

using builtin_testing::Call;

// Tokens and keys from OPA's conformance suite (RFC 7515 examples and OPA's own test vectors).
constexpr std::string_view kRs256Token =
    R"__(eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJmb28iOiJiYXIiLCJuYmYiOjE0NDQ0Nzg0MDB9.N0-EVdv5pvUfZYFRzMGnsWpNLHgwMEgViPwpuLBEtt32682OgnOK-N4X-2gpQEjQIbUr0IFym8YsRQU9GZvqQP72Sd6yOQNGSNeE74DpUZCAjBa9SBIb1UlD2MxZB-e7YJiEyo7pZhimaqorXrgorlaXYGMvsCFWDYmBLzGaGYaGJyEpkZHzHb7ujsDrJJjdEtDV3kh13gTHzLPvqnoXuuxelXye_8LPIhvgDy52gT4shUEso71pJCMv_IqAR19ljVE17lJzoi6VhRn6ReNUE-yg4KfCO4Ypnuu-mcQr7XtmSYoWkX72L5UQ-EyWkoz-w0SYKoJTPzHkTL2thYStksVpeNkGuck25aUdtrQgmPbao0QOWBFlkg03e6mPCD2-aXOt1ofth9mZGjxWMHX-mUqHaNmaWM3WhRztJ73hWrmB1YOdYQtOEHejfvR_td5tqIw4W6ufRy2ScOypGQe7kNaUZxpgxZ1927ZGNiQgawIOAQwXOcFx1JNSEIeg55-cYJrHPxsXGOB9ZxW-qnswmFJp474iUVXjzGhLexJDXBwvKGs_O3JFjMsvyV9_hm7bnQU0vG_HgPYs5i9VOHRMujq1vFBcm52TFVOBGdWaGfb9RRdLLYvVkJLk0Poh19rsCWb7-Vc3mAaGGpvuk4Wv-PnGGNC-V-FQqIbijHDrn_g)__";
constexpr std::string_view kRs256PublicKey =
    R"__(-----BEGIN PUBLIC KEY-----
MIICIjANBgkqhkiG9w0BAQEFAAOCAg8AMIICCgKCAgEA7nJwME0QNM6g0Ou9SyljlcIY4cnBcs8oWVHe74bJ7JTgYmDOk2CA14RE3wJNkUKERP/cRdesKDA/BToJXJUroYvhjXxUYn+i3wK5vOGRY9WUtTF9paIIpIV4USUOwDh3ufhA9K3tyh+ZVsqn80em0Lj2ME0EgScuk6u0/UYjjNvcmnQl+uDmghG8xBZh7TZW2+aceMwlb4LJIP36VRhgjKQGIxg2rW8ROXgJaFbNRCbiOUUqlq9SUZuhHo8TNOARXXxp9R4Fq7Cl7ZbwWtNPwAtM1y+Z+iyu/i91m0YLlU2XBOGLu9IA8IZjPlbCnk/SygpV9NNwTY9DSQ0QfXcPTGlsbFwzRzTlhH25wEl3j+2Ub9w/NX7Yo+j/Ei9eGZ8cq0bcvEwDeIo98HeNZWrLUUArayRYvh8zutOlzqehw8waFk9AxpfEp9oWekSz8gZw9OL773EhnglYxxjkPHNzk66CufLuTEf6uE9NLE5HnlQMbiqBFirIyAWGKyU3v2tphKvcogxmzzWA51p0GY0lGZvlLNt2NrJv2oGecyl3BLqHnBi+rGAosa/8XgfQT8RIk7YR/tDPDmPfaqSIc0po+NcHYEH82Yv+gfKSK++1fyssGCsSRJs8PFMuPGgv62fFrE/EHSsHJaNWojSYce/Trxm2RaHhw/8O4oKcfrbaRf8CAwEAAQ==
-----END PUBLIC KEY-----)__";
constexpr std::string_view kEs256Token =
    R"__(eyJhbGciOiAiRVMyNTYiLCAidHlwIjogIkpXVCJ9.eyJpc3MiOiAieHh4In0.JvbTLBF06FR70gb7lCbx_ojhp4bk9--B_aULgNlYM0fYf9OSawaqBQp2lwW6FADFtRJ2WFUk5g0zwVOUlnrlzw)__";
constexpr std::string_view kEs256Cert =
    R"__(-----BEGIN CERTIFICATE-----
MIIBcDCCARagAwIBAgIJAMZmuGSIfvgzMAoGCCqGSM49BAMCMBMxETAPBgNVBAMM
CHdoYXRldmVyMB4XDTE4MDgxMDE0Mjg1NFoXDTE4MDkwOTE0Mjg1NFowEzERMA8G
A1UEAwwId2hhdGV2ZXIwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAATPwn3WCEXL
mjp/bFniDwuwsfu7bASlPae2PyWhqGeWwe23Xlyx+tSqxlkXYe4pZ23BkAAscpGj
yn5gXHExyDlKo1MwUTAdBgNVHQ4EFgQUElRjSoVgKjUqY5AXz2o74cLzzS8wHwYD
VR0jBBgwFoAUElRjSoVgKjUqY5AXz2o74cLzzS8wDwYDVR0TAQH/BAUwAwEB/zAK
BggqhkjOPQQDAgNIADBFAiEA4yQ/88ZrUX68c6kOe9G11u8NUaUzd8pLOtkKhniN
OHoCIHmNX37JOqTcTzGn2u9+c8NlnvZ0uDvsd1BmKPaUmjmm
-----END CERTIFICATE-----
)__";
constexpr std::string_view kRs256AudToken =
    R"__(eyJhbGciOiAiUlMyNTYiLCAidHlwIjogIkpXVCJ9.eyJpc3MiOiAieHh4IiwgImF1ZCI6ICJmcmVkIn0.F-9m2Tx8r1tuQFirazsI4FK05bXX3uP4ut8M2FryJ07k3bQhy262fdwNDmuFcGx0NfL-c80agcwGoTzMWXkVEgZ2KTz0QSAdcdGk3ZWtUy-Mj2IilZ1dzkVvW8LsithYFTGcUtkelFDrJwtMQ0Kum7SXJpC_HCBk4PbftY0XD6jRgHLnQdeT9_J11L4sd19vCdpxxxm3_m_yvUV3ZynzB4vhQbS3CET4EClAVhi-m_gMh9mj85gY1ycIz6-FxWv8xM2Igm2SMeIdyJwAvEGnIauRS928P_OqVCZgCH2Pafnxtzy77Llpxy8XS0xu5PtPw3_azhg33GaXDCFsfz6GpA)__";
constexpr std::string_view kDecodeVerifyCert =
    R"__(-----BEGIN CERTIFICATE-----
MIIC/DCCAeSgAwIBAgIJAJRvYDU3ei3EMA0GCSqGSIb3DQEBCwUAMBMxETAPBgNV
BAMMCHdoYXRldmVyMB4XDTE4MDgxMDEwMzgxNloXDTE4MDkwOTEwMzgxNlowEzER
MA8GA1UEAwwId2hhdGV2ZXIwggEiMA0GCSqGSIb3DQEBAQUAA4IBDwAwggEKAoIB
AQC4kCmzLMW/5jzkzkmN7Me8wPD+ymBUIjsGqliGfMrfFfDV2eTPVtZcYD3IXoB4
AOUT7XJzWjOsBRFOcVKKEiCPjXiLcwLb/QWQ1x0Budft32r3+N0KQd1rgcRHTPNc
JoeWCfOgDPp51RTzTT6HQuV4ud+CDhRJP7QMVMIgal9Nuzs49LLZaBPW8/rFsHjk
JQ4kDujSrpcT6F2FZY3SmWsOJgP7RjVKk5BheYeFKav5ZV4p6iHn/TN4RVpvpNBh
5z/XoHITJ6lpkHSDpbIaQUTpobU2um8N3biz+HsEAmD9Laa27WUpYSpiM6DDMSXl
dBDJdumerVRJvXYCtfXqtl17AgMBAAGjUzBRMB0GA1UdDgQWBBRz74MkVzT2K52/
FJC4mTa9coM/DTAfBgNVHSMEGDAWgBRz74MkVzT2K52/FJC4mTa9coM/DTAPBgNV
HRMBAf8EBTADAQH/MA0GCSqGSIb3DQEBCwUAA4IBAQAD1ZE4IaIAetqGG+vt9oz1
Ix0j4EPok0ONyhhmiSsF6rSv8zlNWweVf5y6Z+AoTNY1Fym0T7dbpbqIox0EdKV3
FLzniWOjznupbnqfXwHX/g1UAZSyt3akSatVhvNpGlnd7efTIAiNinX/TkzIjhZ7
ihMIZCGykT1P0ys1OaeEf57wAzviatD4pEMTIW0OOqY8bdRGhuJR1kKUZ/2Nm8Ln
y7E0y8uODVbH9cAwGyzWB/QFc+bffNgi9uJaPQQc5Zxwpu9utlqyzFvXgV7MBYUK
EYSLyxp4g4e5aujtLugaC8H6n9vP1mEBr/+T8HGynBZHNTKlDhhL9qDbpkkNB6/w
-----END CERTIFICATE-----)__";
constexpr std::string_view kMultiKeyToken =
    R"__(eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiYWRtaW4iOnRydWUsImlhdCI6MTUxNjIzOTAyMn0.ZcLZbBKpPFFz8YGD2jEbXzwHT7DWtqRVk1PTV-cAWUV8jr6f2a--Fw9SFR3vSbrtFif06AQ3aWY7PMM2AuxDjiUVGjItmHRz0sJBEijcE2QVkDN7MNK3Kk1fsM_hbEXzNCzChZpEkTZnLy9ijkJJFD0j6lBat4lO5Zc_LC2lXUftV_hU2aW9mQ7pLSgJjItzRymivnN0g-WUDq5IPK_M8b3yPy_N9iByj8B2FO0sC3TuOrXWbrYrX4ve4bAaSqOFOXiL5Z5BJfmmtT--xKdWDGJxnei8lbv7in7t223fVsUpsH-zmybp529Fya37BsaIlcgLrl38ghvoqy2sHu2wAA)__";
constexpr std::string_view kMultiKeyJwks =
    R"__({
  "keys": [
    {
      "kty": "EC",
      "use": "sig",
      "crv": "P-256",
      "kid": "k1",
      "x": "9Qq5S5VqMQoH-FOI4atcH6V3bua03C-5ZMZMG1rszwA",
      "y": "LLbFxWkGBEBrTm1GMYZJy1OXCH1KLweJMCgIEPIsibU",
      "alg": "ES256"
    },
    {
      "kty": "RSA",
      "e": "AQAB",
      "use": "enc",
      "kid": "k2",
      "alg": "RS256",
      "n": "sGu-fYVE2nq2dPxJlqAMI0Z8G3FD0XcWDnD8mkfO1ddKRGuUQZmfj4gWeZGyIk3cnuoy7KJCEqa3daXc08QHuFZyfn0rH33t8_AFsvb0q0i7R2FK-Gdqs_E0-sGpYMsRJdZWfCioLkYjIHEuVnRbi3DEsWqe484rEGbKF60jNRgGC4b-8pz-E538ZkssWxcqHrYIj5bjGEU36onjS3M_yrTuNvzv_8wRioK4fbcwmGne9bDxu8LcoSReWpPn0CnUkWnfqroRcMJnC87ZuJagDW1ZWCmU3psdsVanmFFh0DP6z0fsA4h8G2n9-qp-LEKFaWwo3IWlOsIzU3MHdcEiGw"
    }
  ]
})__";
constexpr std::string_view kRfcRsaJwk =
    R"__({
    "kty":"RSA",
    "n":"ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ",
    "e":"AQAB",
    "d":"Eq5xpGnNCivDflJsRQBXHx1hdR1k6Ulwe2JZD50LpXyWPEAeP88vLNO97IjlA7_GQ5sLKMgvfTeXZx9SE-7YwVol2NXOoAJe46sui395IW_GO-pWJ1O0BkTGoVEn2bKVRUCgu-GjBVaYLU6f3l9kJfFNS3E0QbVdxzubSu3Mkqzjkn439X0M_V51gfpRLI9JYanrC4D4qAdGcopV_0ZHHzQlBjudU2QvXt4ehNYTCBr6XCLQUShb1juUO1ZdiYoFaFQT5Tw8bGUl_x_jTj3ccPDVZFD9pIuhLhBOneufuBiB4cS98l2SR_RQyGWSeWjnczT0QU91p1DhOVRuOopznQ",
    "p":"4BzEEOtIpmVdVEZNCqS7baC4crd0pqnRH_5IB3jw3bcxGn6QLvnEtfdUdiYrqBdss1l58BQ3KhooKeQTa9AB0Hw_Py5PJdTJNPY8cQn7ouZ2KKDcmnPGBY5t7yLc1QlQ5xHdwW1VhvKn-nXqhJTBgIPgtldC-KDV5z-y2XDwGUc",
    "q":"uQPEfgmVtjL0Uyyx88GZFF1fOunH3-7cepKmtH4pxhtCoHqpWmT8YAmZxaewHgHAjLYsp1ZSe7zFYHj7C6ul7TjeLQeZD_YwD66t62wDmpe_HlB-TnBA-njbglfIsRLtXlnDzQkv5dTltRJ11BKBBypeeF6689rjcJIDEz9RWdc",
    "dp":"BwKfV3Akq5_MFZDFZCnW-wzl-CCo83WoZvnLQwCTeDv8uzluRSnm71I3QCLdhrqE2e9YkxvuxdBfpT_PI7Yz-FOKnu1R6HsJeDCjn12Sk3vmAktV2zb34MCdy7cpdTh_YVr7tss2u6vneTwrA86rZtu5Mbr1C1XsmvkxHQAdYo0",
    "dq":"h_96-mK1R_7glhsum81dZxjTnYynPbZpHziZjeeHcXYsXaaMwkOlODsWa7I9xXDoRwbKgB719rrmI2oKr6N3Do9U0ajaHF-NKJnwgjMd2w9cjz3_-kyNlxAr2v4IKhGNpmM5iIgOS1VZnOZ68m6_pbLBSp3nssTdlqvd0tIiTHU",
    "qi":"IYd7DHOhrWvxkwPQsRM2tOgrjbcrfvtQJipd-DlcxyVuuM9sQLdgjVk2oy26F0EmpScGLq2MowX7fhd_QJQ3ydy5cY7YIBi87w93IKLEdfnbJtoOPLUW0ITrJReOgo1cq9SbsxYawBgfp_gh6A5603k2-ZQwVK0JKSHuLFkuQ3U"
  })__";
constexpr std::string_view kRfcRsaToken =
    R"__(eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw)__";
constexpr std::string_view kNestedToken =
    R"__(eyJhbGciOiAiUlMyNTYiLCAidHlwIjogIkpXVCIsICJjdHkiOiAiSldUIn0.ZXlKaGJHY2lPaUFpVWxNeU5UWWlMQ0FpZEhsd0lqb2dJa3BYVkNKOS5leUpwYzNNaU9pQWllSGg0SW4wLnJSUnJlUU9DYW9ZLW1Nazcyak5GZVk1YVlFUWhJZ0lFdFZkUTlYblltUUwyTHdfaDdNbkk0U0VPMVBwa0JIVEpyZnljbEplTHpfalJ2UGdJMlcxaDFCNGNaVDhDZ21pVXdxQXI5c0puZHlVQ1FtSWRrbm53WkI5cXAtX3BTdGRHWEo5WnAzeEo4NXotVEJpWlN0QUNUZFdlUklGSUU3VkxPa20tRmxZdzh5OTdnaUN4TmxUdWl3amxlTjMwZDhnWHUxNkZGQzJTSlhtRjZKbXYtNjJHbERhLW1CWFZ0bGJVSTVlWVUwaTdueTNyQjBYUVQxRkt4ZUZ3OF85N09FdV9jY3VLcl82ZHlHZVFHdnQ5Y3JJeEFBMWFZbDdmbVBrNkVhcjllTTNKaGVYMi00Wkx0d1FOY1RDT01YV0dIck1DaG5MWVc4WEFrTHJEbl9yRmxUaVMtZw.Xicc2sWCZ_Nithucsw9XD7YOKrirUdEnH3MyiPM-Ck3vEU2RsTBsfU2JPhfjp3phc0VOgsAXCzwU5PwyNyUo1490q8YSym-liMyO2Lk-hjH5fAxoizg9yD4II_lK6Wz_Tnpc0bBGDLdbuUhvgvO7yqo-leBQlsfRXOvw4VSPSEy8QPtbURtbnLpWY2jGBKz7vGI_o4qDJ3PicG0kyEiWZNh3wjeeCYRCWvXN8qh7Uk5EA-8J5vX651GqV-7gmaX1n-8DXamhaCQcE-p1cjSj04-X-_bJlQtmb-TT3bSyUPxgHVncvxNUby8jkUTzfi5MMbmIzWWkxI5YtJTdtmCkPQ)__";

// A throwaway P-256 key generated for these tests.
constexpr std::string_view kEcJwk =
    R"({"kty":"EC","crv":"P-256","x":"F8uVTTOHhTjEHV8eLPyjcBzmyC6yGZ29CnqCzAZ6VZc",)"
    R"("y":"A7v6fBGweF7TkNf56vdyNF1hbTaqCYUyHkeL5Dc0kvE","d":"ynLg_9mYm3eizJCl2bB2YaRTaYWIB8CbzaFj29rYzoA"})";
constexpr std::string_view kEdJwk =
    R"({"kty":"OKP","alg":"EdDSA","crv":"Ed25519","x":"wEZFfoAj1rFKTLOOmjJjVZlCHwksuvMb2I5y_hg70E8",)"
    R"("d":"9XI34uQzYUJfWhDZf_0nYsLMBRVu8a6dFsy60P8uugk"})";
constexpr std::string_view kHmacJwk =
    R"({"kty":"oct","k":"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"})";

Value S(std::string_view s) { return Value::String(std::string(s)); }
Value Obj(std::string_view json) { return *Value::ParseJson(json); }

std::string Json(const Result<Value>& r) { return r ? r->ToJson() : "error: " + r.error().message; }

// The error message of a failed call, or "" when it succeeded.
std::string Err(const Result<Value>& r, int code = kBuiltinError) {
  if (r) return "";
  EXPECT_EQ(r.error().code, code) << r.error().message;
  return r.error().message;
}

TEST(CryptoBuiltins, Hashes) {
  EXPECT_EQ(Json(Call("crypto.md5", {S("lorem ipsum")})), "\"80a751fde577028640c419000e33eba6\"");
  EXPECT_EQ(Json(Call("crypto.sha1", {S("lorem ipsum")})),
            "\"bfb7759a67daeb65410490b4d98bb9da7d1ea2ce\"");
  EXPECT_EQ(Json(Call("crypto.sha256", {S("lorem ipsum")})),
            "\"5e2bf57d3f40c4b6df69daf1936cb766f832374b4fc0259a7cbff06e2f70f269\"");
  EXPECT_EQ(Err(Call("crypto.sha256", {Value::Int(1)}), kTypeError),
            "crypto.sha256: operand 1 must be string but got number");
}

TEST(CryptoBuiltins, Hmacs) {
  EXPECT_EQ(Json(Call("crypto.hmac.md5", {S("foo"), S("bar")})),
            "\"31b6db9e5eb4addb42f1a6ca07367adc\"");
  EXPECT_EQ(Json(Call("crypto.hmac.sha1", {S("foo"), S("bar")})),
            "\"85d155c55ed286a300bd1cf124de08d87e914f3a\"");
  EXPECT_EQ(Json(Call("crypto.hmac.sha256", {S("foo"), S("bar")})),
            "\"147933218aaabc0b8b10a2b3a5c34684c8d94341bcf10a4736dc7270f7741851\"");
  EXPECT_EQ(Json(Call("crypto.hmac.sha512", {S("foo"), S("bar")})),
            "\"24257d7210582a65c731ec55159c8184cc24c02489453e58587f71f44c23a2d61b4b72154a89d17b2d4"
            "9448a8452ea066f4fc56a2bcead45c088572ffccdb3d8\"");
  EXPECT_EQ(
      Json(Call("crypto.hmac.sha256", {S("\u00e5\u00e4\u00f6\u00e7\u00df\U0001F972\u2659\u03a9"),
                                       S("\u79d8\u5bc6\u306e")})),
      "\"eb90daeb76d4b2571fbdaf94bbb240809faa8fed93ec0c260dd38c3fdf8d963a\"");
  EXPECT_EQ(Json(Call("crypto.hmac.sha256", {S("foo"), S("")})),
            "\"0c0d98f7e3d9d45e72e8877bc1b104327efb9c07b18f2ffeced76d81307f1fff\"");
  EXPECT_EQ(Json(Call("crypto.hmac.equal", {S("31b6db9e5eb4addb42f1a6ca07367adc"),
                                            S("31b6db9e5eb4addb42f1a6ca07367adc")})),
            "true");
  EXPECT_EQ(Json(Call("crypto.hmac.equal",
                      {S("31b6db9e5eb4addb42f1a6ca07367adc"), S("31b6db9e5eb4addb")})),
            "false");
  EXPECT_EQ(Err(Call("crypto.hmac.equal", {S("a"), Value::Null()}), kTypeError),
            "crypto.hmac.equal: operand 2 must be string but got null");
}

TEST(JwtDecode, DecodesHeaderPayloadAndSignature) {
  EXPECT_EQ(Json(Call("io.jwt.decode", {S("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIwIiwia"
                                          "XNzIjoib3BhIn0.XmVoLoHI3pxMtMO_WRONMSJzGUDP9pDjy8Jp0_td"
                                          "RXY")})),
            R"([{"alg":"HS256","typ":"JWT"},{"iss":"opa","sub":"0"},)"
            R"("5e65682e81c8de9c4cb4c3bf59138d3122731940cff690e3cbc269d3fb5d4576"])");
  // Duplicate claims: the last one wins.
  EXPECT_EQ(Json(Call("io.jwt.decode",
                      {S("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiAiMCIsImlzcyI6ICJub3Qgb3"
                         "BhIiwgImlzcyI6ICJhbHNvIG5vdCBvcGEiLCAiaXNzIjogIm9wYSJ9.XmVoLoHI3pxMtMO_"
                         "WRONMSJzGUDP9pDjy8Jp0_tdRXY")})),
            R"([{"alg":"HS256","typ":"JWT"},{"iss":"opa","sub":"0"},)"
            R"("5e65682e81c8de9c4cb4c3bf59138d3122731940cff690e3cbc269d3fb5d4576"])");
  // cty JWT: the payload is itself a (quoted) token, which is decoded instead.
  EXPECT_EQ(
      Json(Call("io.jwt.decode",
                {S("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCIsImN0eSI6IkpXVCJ9.ImV5SmhiR2NpT2lKSVV6STFO"
                   "aUlzSW5SNWNDSTZJa3BYVkNKOS5leUp6ZFdJaU9pSXdJaXdpYVhOeklqb2liM0JoSW4wLlhtVm9Mb0"
                   "hJM3B4TXRNT19XUk9OTVNKekdVRFA5cERqeThKcDBfdGRSWFki.8W0qx4mLxslmZl7wEMUWBxH7tST"
                   "3XsEuWXxesXqFnRI")})),
      R"([{"alg":"HS256","typ":"JWT"},{"iss":"opa","sub":"0"},)"
      R"("5e65682e81c8de9c4cb4c3bf59138d3122731940cff690e3cbc269d3fb5d4576"])");
}

TEST(JwtDecode, Errors) {
  EXPECT_EQ(Err(Call("io.jwt.decode", {S("abc")})),
            "io.jwt.decode: encoded JWT had no period separators");
  EXPECT_EQ(Err(Call("io.jwt.decode", {S("a.b")})),
            "io.jwt.decode: encoded JWT must have 3 sections, found 2");
  EXPECT_EQ(Err(Call("io.jwt.decode",
                     {S("eyJhbGciOiJIU^%zI1NiI+sInR5cCI6IkpXVCJ9.eyJzdWIiOiIwIiwiaXNzIjoib3BhIn0.Xm"
                        "VoLoHI3pxMtMO_WRONMSJzGUDP9pDjy8Jp0_tdRXY")})),
            "io.jwt.decode: JWT header had invalid encoding: illegal base64 data at input byte 13");
  EXPECT_EQ(Err(Call("io.jwt.decode",
                     {S("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIwIiwiaXNzIjoib3BhIn0.XmVoL"
                        "oHI3pxMtMO(_WRONMSJzGUDP9pDjy8Jp0_tdRXY")})),
            "io.jwt.decode: JWT signature had invalid encoding: illegal base64 data at input byte "
            "15");
  EXPECT_EQ(
      Err(Call("io.jwt.decode",
               {S("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCIsImVuYyI6ImJsYWgifQ.eyJuZXciOiJJIGFtIG"
                  "EgdXNlciBjcmVhdGVkIGZpZWxkIiwiaXNzIjoib3BhIn0.McGUb1e-UviZKy6UyQErNNQzEUgeV"
                  "25Buwk7OHOa8U8")})),
      "io.jwt.decode: JWT is a JWE object, which is not supported");
  // "[1]" is JSON but not an object.
  EXPECT_EQ(Err(Call("io.jwt.decode", {S("eyJhbGciOiJub25lIn0.WzFd.")})),
            "io.jwt.decode: decoded JSON type was not an Object");
  EXPECT_EQ(Err(Call("io.jwt.decode", {Value::Int(1)}), kTypeError),
            "io.jwt.decode: operand 1 must be string but got number");
}

TEST(JwtVerify, RsaWithPemAndJwk) {
  EXPECT_EQ(Json(Call("io.jwt.verify_rs256", {S(kRs256Token), S(kRs256PublicKey)})), "true");
  std::string tampered(kRs256Token);
  tampered[tampered.size() - 5] = tampered[tampered.size() - 5] == 'A' ? 'B' : 'A';
  EXPECT_EQ(Json(Call("io.jwt.verify_rs256", {S(tampered), S(kRs256PublicKey)})), "false");
  // The right key with the wrong algorithm is not a match.
  EXPECT_EQ(Json(Call("io.jwt.verify_ps256", {S(kRs256Token), S(kRs256PublicKey)})), "false");
  EXPECT_EQ(Json(Call("io.jwt.verify_rs384", {S(kRs256Token), S(kRs256PublicKey)})), "false");
  // A certificate works as well as a bare public key.
  EXPECT_EQ(Json(Call("io.jwt.verify_rs256", {S(kRs256AudToken), S(kDecodeVerifyCert)})), "true");
  // A JWK set: the key whose alg matches the token's is used.
  EXPECT_EQ(Json(Call("io.jwt.verify_rs256", {S(kMultiKeyToken), S(kMultiKeyJwks)})), "true");
}

TEST(JwtVerify, KeyErrors) {
  std::string pem(kDecodeVerifyCert);
  EXPECT_EQ(Err(Call("io.jwt.verify_rs256", {S(kRs256Token), S(pem + "\nEXTRA")})),
            "io.jwt.verify_rs256: extra data after a PEM certificate block");
  std::string wrong_type = pem;
  wrong_type.replace(wrong_type.find("BEGIN CERTIFICATE"), 17, "BEGIN CERT");
  wrong_type.replace(wrong_type.find("END CERTIFICATE"), 15, "END CERT");
  EXPECT_EQ(Err(Call("io.jwt.verify_rs256", {S(kRs256Token), S(wrong_type)})),
            "io.jwt.verify_rs256: failed to extract a Key from the PEM certificate");
  std::string bad_der = pem;
  bad_der.replace(bad_der.find("MIIC"), 4, "dead");
  EXPECT_NE(Err(Call("io.jwt.verify_rs256", {S(kRs256Token), S(bad_der)}))
                .find("failed to parse a PEM certificate"),
            std::string::npos);
  EXPECT_NE(Err(Call("io.jwt.verify_rs256", {S(kRs256Token), S(R"({"kty":"bogus key type"})")}))
                .find("failed to parse a JWK key (set)"),
            std::string::npos);
  EXPECT_EQ(Err(Call("io.jwt.verify_rs256", {S("a.b"), S(kRs256PublicKey)})),
            "io.jwt.verify_rs256: encoded JWT must have 3 sections, found 2");
  EXPECT_EQ(Err(Call("io.jwt.verify_rs256", {S(kRs256Token), Value::Int(3)}), kTypeError),
            "io.jwt.verify_rs256: operand 2 must be string but got number");
}

TEST(JwtVerify, EcdsaEddsaHmac) {
  std::string es_cert(kEs256Cert);
  EXPECT_EQ(Json(Call("io.jwt.verify_es256", {S(kEs256Token), S(es_cert)})), "true");
  EXPECT_EQ(Json(Call("io.jwt.verify_es256", {S(kEs256Token), S(kRs256PublicKey)})), "false");
  EXPECT_EQ(
      Json(Call(
          "io.jwt.verify_eddsa",
          {S("eyJhbGciOiJFZERTQSIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4"
             "gRG9lIiwiYWRtaW4iOnRydWUsImlhdCI6MTUxNjIzOTAyMn0.JkKWCY39IdWEQttmdqR7VdsvT-_Qxh"
             "eW_eb0S5wr_j83ltux_JDUIXs7a3Dtn3xuqzuhetiuJrWIvy5TzimeCg"),
           S("-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAwmK6SSAu2E9V7uynkCKEaj5nZJyTvNG4x0Kohs"
             "RzLpg=\n-----END PUBLIC KEY-----")})),
      "true");
  std::string hs384 =
      "eyJhbGciOiJIUzM4NCJ9.eyJTY29wZXMiOlsiZm9vIiwiYmFyIl0sIm5iZiI6MTQ1MTYwNjQwMH0.g98lHYzuqINVp"
      "pLMoEZT7jlpX0IBSo9zKGoN9DhQg7Ua3YjLXbJMjzESjIHXOGLB";
  EXPECT_EQ(Json(Call("io.jwt.verify_hs384", {S(hs384), S("secret")})), "true");
  EXPECT_EQ(Json(Call("io.jwt.verify_hs384", {S(hs384), S("Secret")})), "false");
  EXPECT_EQ(Json(Call("io.jwt.verify_hs256", {S(hs384), S("secret")})), "false");
  EXPECT_EQ(Err(Call("io.jwt.verify_hs512", {S("eyJhbGciOiJIUzUxMiJ9.e30"), S("secret")})),
            "io.jwt.verify_hs512: encoded JWT must have 3 sections, found 2");
}

TEST(JwtDecodeVerify, SignatureAndClaims) {
  Value cert = S(kDecodeVerifyCert);
  auto dv = [&](std::string_view token, std::string_view constraints) {
    Value c = Obj(constraints);
    Object o = c.object();
    if (o.find(S("cert")) != o.end()) o[S("cert")] = cert;
    return Json(
        Call("io.jwt.decode_verify", {S(token), Value::FromObject(o)}, 1700000000000000000));
  };
  std::string ok = R"([true,{"alg":"RS256","typ":"JWT"},{"aud":"fred","iss":"xxx"}])";
  std::string unverified = "[false,{},{}]";
  EXPECT_EQ(dv(kRs256AudToken, R"({"cert":"", "aud":"fred"})"), ok);
  EXPECT_EQ(dv(kRs256AudToken, R"({"cert":"", "aud":"fred", "iss":"xxx", "alg":"RS256"})"), ok);
  EXPECT_EQ(dv(kRs256AudToken, R"({"cert":""})"), unverified);  // token has aud, none expected
  EXPECT_EQ(dv(kRs256AudToken, R"({"cert":"", "aud":"cath"})"), unverified);
  EXPECT_EQ(dv(kRs256AudToken, R"({"cert":"", "aud":"fred", "iss":"yyy"})"), unverified);
  EXPECT_EQ(dv(kRs256AudToken, R"({"cert":"", "aud":"fred", "alg":"PS256"})"), unverified);
  EXPECT_EQ(dv(kRs256AudToken, R"({"secret":"x", "aud":"fred"})"), unverified);
  // Nested tokens (cty JWT) are verified level by level; the innermost header is returned.
  EXPECT_EQ(dv(kNestedToken, R"({"cert":""})"),
            R"([true,{"alg":"RS256","typ":"JWT"},{"iss":"xxx"}])");
  // ES256 with a certificate; a JWK set with several keys.
  EXPECT_EQ(Json(Call("io.jwt.decode_verify",
                      {S(kEs256Token), Value::FromObject({{S("cert"), S(kEs256Cert)}})})),
            R"([true,{"alg":"ES256","typ":"JWT"},{"iss":"xxx"}])");
  EXPECT_EQ(
      Json(Call(
          "io.jwt.decode_verify",
          {S(kMultiKeyToken), Value::FromObject({{S("cert"), S(kMultiKeyJwks)},
                                                 {S("time"), Value::Int(1574723450396363500)}})})),
      R"([true,{"alg":"RS256","typ":"JWT"},{"admin":true,"iat":1516239022,"name":"John Doe","sub":"1234567890"}])");
}

TEST(JwtDecodeVerify, TimeConstraints) {
  // {"iss":"xxx","nbf":1589385770.1234} and {"exp":1589385771.1234,"iss":"xxx"}, HS256 "secret".
  std::string nbf =
      "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJ4eHgiLCJuYmYiOjEuNTg5Mzg1NzcwMTIzNGUrMDl9."
      "lvrsV1nam-BZr0SomWwsr4dBfu6BDrR2FzQ1iS_Xnrw";
  std::string exp =
      "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJleHAiOjEuNTg5Mzg1NzcxMTIzNGUrMDksImlzcyI6Inh4eCJ9."
      "PZ2z6VfHt9YdvHHUbilkTnw4R9TK3_V0LV1h-q0k9xg";
  auto valid = [](const std::string& token, int64_t time) {
    auto r = Call(
        "io.jwt.decode_verify",
        {S(token), Value::FromObject({{S("secret"), S("secret")}, {S("time"), Value::Int(time)}})});
    EXPECT_TRUE(r) << r.error().message;
    return r && r->array()[0].as_bool();
  };
  EXPECT_FALSE(valid(nbf, 1589385770023400000));
  EXPECT_TRUE(valid(nbf, 1589385770123400000));
  EXPECT_TRUE(valid(nbf, 1589385771123400000));
  EXPECT_TRUE(valid(exp, 1589385770123400000));
  EXPECT_TRUE(valid(exp, 1589385771023400000));
  EXPECT_FALSE(valid(exp, 1589385771123400000));
  EXPECT_FALSE(valid(exp, 1589385772123400000));
  // Without a time constraint the query's clock is used.
  auto at = [&](int64_t now) {
    auto r = Call("io.jwt.decode_verify", {S(exp), Obj(R"({"secret":"secret"})")}, now);
    return r && r->array()[0].as_bool();
  };
  EXPECT_TRUE(at(1589385770000000000));
  EXPECT_FALSE(at(1589385800000000000));
}

TEST(JwtDecodeVerify, Errors) {
  auto dv = [](Value token, std::string_view constraints) {
    return Call("io.jwt.decode_verify", {std::move(token), Obj(constraints)});
  };
  Value tok = S(kRs256AudToken);
  EXPECT_EQ(Err(dv(tok, R"({"secret":"x","foo":1})")),
            "io.jwt.decode_verify: unknown token validation constraint: foo");
  EXPECT_EQ(Err(dv(tok, R"({"iss":"x"})")), "io.jwt.decode_verify: no key constraint");
  EXPECT_EQ(Err(dv(tok, R"({"secret":"x","cert":"{\"keys\":[]}"})")),
            "io.jwt.decode_verify: duplicate key constraints");
  EXPECT_EQ(Err(dv(tok, R"({"secret":5})")),
            "io.jwt.decode_verify: secret constraint: must be a string");
  EXPECT_EQ(Err(dv(tok, R"({"secret":"x","time":-1})")),
            "io.jwt.decode_verify: token time constraint: must not be negative");
  EXPECT_EQ(Err(Call("io.jwt.decode_verify", {tok, S("x")}), kTypeError),
            "io.jwt.decode_verify: operand 2 must be object but got string");
  // A token signed with secret "42" and {"nbf": "string is not valid here"}.
  auto token = Call("io.jwt.encode_sign",
                    {Obj(R"({"alg":"HS256"})"), Obj(R"({"nbf":"string is not valid here"})"),
                     Obj(R"({"kty":"oct","k":"NDI"})")});
  ASSERT_TRUE(token);
  EXPECT_EQ(Err(dv(*token, R"({"secret":"42"})")),
            "io.jwt.decode_verify: nbf value must be a number");
  token = Call("io.jwt.encode_sign",
               {Obj(R"({"alg":"HS256"})"), Obj("{}"), Obj(R"({"kty":"oct","k":"NDI"})")});
  ASSERT_TRUE(token);
  EXPECT_EQ(Json(dv(*token, R"({"secret":"42","iss":"xxx"})")), "[false,{},{}]");
  EXPECT_EQ(Json(dv(*token, R"({"secret":"42"})")), R"([true,{"alg":"HS256"},{}])");
}

TEST(JwtEncodeSign, MatchesRfc7515Examples) {
  Value payload = Obj(R"({"aud":["bob","saul"],"exp":1300819380,"http://example.com/is_root":true,)"
                      R"("iss":"joe","privateParams":{"private_one":"one","private_two":"two"}})");
  EXPECT_EQ(Json(Call("io.jwt.encode_sign",
                      {Obj(R"({"alg":"HS256","typ":"JWT"})"), payload, Obj(kHmacJwk)})),
            "\"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJhdWQiOlsiYm9iIiwic2F1bCJdLCJleHAiOjEzMDA4M"
            "TkzODAsImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlLCJpc3MiOiJqb2UiLCJwcml2YXRlUGFyY"
            "W1zIjp7InByaXZhdGVfb25lIjoib25lIiwicHJpdmF0ZV90d28iOiJ0d28ifX0.-Or2eol8bzly-Ztb0v7_7"
            "UkcKBkN_aNNpK33HK0MeOY\"");
  EXPECT_EQ(Json(Call("io.jwt.encode_sign",
                      {Obj(R"({"alg":"EdDSA","typ":"JWT"})"), payload, Obj(kEdJwk)})),
            "\"eyJhbGciOiJFZERTQSIsInR5cCI6IkpXVCJ9.eyJhdWQiOlsiYm9iIiwic2F1bCJdLCJleHAiOjEzMDA4M"
            "TkzODAsImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlLCJpc3MiOiJqb2UiLCJwcml2YXRlUGFyY"
            "W1zIjp7InByaXZhdGVfb25lIjoib25lIiwicHJpdmF0ZV90d28iOiJ0d28ifX0.T_X7SzKEehTnRdgYrDobp"
            "KO-EqZ0LW3Y-idx16wNHXCL5aiR24h2Ei0pWRHG2X2BYomwbvNwyxPcasgHqs_eBA\"");
  // encode_sign_raw signs the header and payload bytes exactly as given.
  auto raw =
      Call("io.jwt.encode_sign_raw",
           {S(R"({"alg":"RS256"})"),
            S("{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n \"http://example.com/is_root\":true}"),
            S(kRfcRsaJwk)});
  ASSERT_TRUE(raw) << raw.error().message;
  EXPECT_EQ(raw->str(), kRfcRsaToken);
  EXPECT_EQ(Json(Call("io.jwt.encode_sign_raw",
                      {S("{\"typ\":\"text/plain\",\r\n \"alg\":\"HS256\"}"), S(""), S(kHmacJwk)})),
            "\"eyJ0eXAiOiJ0ZXh0L3BsYWluIiwNCiAiYWxnIjoiSFMyNTYifQ..sXoGQMWwM-SmX495-htA7kndgbkwz1Pn"
            "qsDeY275gnI\"");
}

TEST(JwtEncodeSign, GoJsonEncoding) {
  // Keys sorted, HTML characters escaped, integral floats printed as integers.
  auto t = Call("io.jwt.encode_sign",
                {Obj(R"({"typ":"JWT","alg":"HS256"})"),
                 Obj(R"({"b":"<a&b>","a":1678000000.0,"c":[1.5]})"), Obj(kHmacJwk)});
  ASSERT_TRUE(t);
  auto decoded = Call("io.jwt.decode", {*t});
  ASSERT_TRUE(decoded);
  std::string payload = t->str().substr(t->str().find('.') + 1);
  payload = payload.substr(0, payload.find('.'));
  EXPECT_EQ(payload, "eyJhIjoxNjc4MDAwMDAwLCJiIjoiXHUwMDNjYVx1MDAyNmJcdTAwM2UiLCJjIjpbMS41XX0");
}

TEST(JwtEncodeSign, SignsAndVerifiesEveryAlgorithmFamily) {
  Value payload = Obj(R"({"sub":"alice","iss":"me"})");
  struct Case {
    std::string alg;
    std::string_view jwk;
  };
  for (const Case& c :
       {Case{"ES256", kEcJwk}, Case{"RS256", kRfcRsaJwk}, Case{"PS256", kRfcRsaJwk},
        Case{"RS512", kRfcRsaJwk}, Case{"PS384", kRfcRsaJwk}, Case{"EdDSA", kEdJwk}}) {
    auto token =
        Call("io.jwt.encode_sign", {Obj(R"({"alg":")" + c.alg + R"("})"), payload, Obj(c.jwk)});
    ASSERT_TRUE(token) << c.alg << ": " << token.error().message;
    // decode_verify accepts the private JWK too; it only needs the public half.
    auto r = Call("io.jwt.decode_verify",
                  {*token, Value::FromObject({{S("cert"), S(c.jwk)}, {S("iss"), S("me")}})});
    ASSERT_TRUE(r) << c.alg << ": " << r.error().message;
    EXPECT_EQ(r->array()[0], Value::True()) << c.alg;
  }
  // ES256 signatures are fixed-size r || s (64 bytes), not DER.
  auto es = Call("io.jwt.encode_sign", {Obj(R"({"alg":"ES256"})"), payload, Obj(kEcJwk)});
  ASSERT_TRUE(es);
  std::string sig = es->str().substr(es->str().rfind('.') + 1);
  EXPECT_EQ(sig.size(), 86u);  // base64url of 64 bytes
  Value ec_public = Obj(kEcJwk);
  Object pub = ec_public.object();
  pub.erase(S("d"));
  EXPECT_EQ(Json(Call("io.jwt.verify_es256", {*es, S(Value::FromObject(pub).ToJson())})), "true");
  // HS512 with an oct JWK in a JWK set as the cert constraint.
  auto hs = Call("io.jwt.encode_sign", {Obj(R"({"alg":"HS512"})"), payload, Obj(kHmacJwk)});
  ASSERT_TRUE(hs);
  EXPECT_EQ(
      Json(Call("io.jwt.decode_verify", {*hs, Value::FromObject({{S("cert"), S(kHmacJwk)}})})),
      R"([true,{"alg":"HS512"},{"iss":"me","sub":"alice"}])");
}

TEST(JwtEncodeSign, Errors) {
  std::string payload = R"({"iss":"joe"})";
  auto raw = [&](const std::string& header, const std::string& body) {
    return Call("io.jwt.encode_sign_raw", {S(header), S(body), S(kHmacJwk)});
  };
  EXPECT_NE(Err(raw("{\"typ:\"JWT\",\r\n \"alg\":\"HS256\"}", payload))
                .find("io.jwt.encode_sign_raw: missing or invalid 'alg' header: cannot parse JSON"),
            std::string::npos);
  EXPECT_EQ(Err(raw("{}", payload)),
            "io.jwt.encode_sign_raw: missing or invalid 'alg' header: jwsbb: header \"alg\" not "
            "found");
  EXPECT_EQ(Err(raw("e", payload)),
            "io.jwt.encode_sign_raw: missing or invalid 'alg' header: jwsbb: header \"alg\" not "
            "found");
  EXPECT_EQ(Err(raw(R"({"alg":"dummy"})", payload)),
            "io.jwt.encode_sign_raw: unknown JWS algorithm: dummy");
  EXPECT_EQ(Err(raw(R"({"typ":"JWT","alg":"HS256"})", "")),
            "io.jwt.encode_sign_raw: type is JWT but payload is not JSON");
  EXPECT_EQ(Err(raw(R"({"alg":"HS256"})", "{\"iss:\"joe\"}")),
            "io.jwt.encode_sign_raw: type is JWT but payload is not JSON");
  EXPECT_NE(Err(Call("io.jwt.encode_sign_raw", {S(R"({"alg":"RS256"})"), S(payload), S(kHmacJwk)}))
                .find("failed to sign"),
            std::string::npos);
  // A public key cannot sign.
  EXPECT_NE(
      Err(Call(
              "io.jwt.encode_sign_raw",
              {S(R"({"alg":"ES256"})"), S(payload),
               S(R"({"kty":"EC","crv":"P-256","x":"F8uVTTOHhTjEHV8eLPyjcBzmyC6yGZ29CnqCzAZ6VZc","y":"A7v6fBGweF7TkNf56vdyNF1hbTaqCYUyHkeL5Dc0kvE"})")}))
          .find("not a private key"),
      std::string::npos);
  EXPECT_EQ(Err(Call("io.jwt.encode_sign_raw", {S("{}"), S(payload), S(R"({"keys":[]})")})),
            "io.jwt.encode_sign_raw: no keys found in JWK set");
  EXPECT_EQ(Err(Call("io.jwt.encode_sign_raw", {S("{}"), S(payload), Value::Int(1)}), kTypeError),
            "io.jwt.encode_sign_raw: operand 3 must be string but got number");
}

TEST(Uuid, Rfc4122IsRandomVersion4) {
  std::set<std::string> seen;
  for (int i = 0; i < 50; ++i) {
    auto r = Call("uuid.rfc4122", {S("key")});
    ASSERT_TRUE(r);
    const std::string& u = r->str();
    ASSERT_EQ(u.size(), 36u);
    EXPECT_EQ(u[14], '4');
    EXPECT_NE(std::string("89ab").find(u[19]), std::string::npos);
    auto parsed = Call("uuid.parse", {*r});
    ASSERT_TRUE(parsed);
    EXPECT_EQ(parsed->ToJson(), R"({"variant":"RFC4122","version":4})");
    seen.insert(u);
  }
  EXPECT_EQ(seen.size(), 50u);
}

TEST(Uuid, Parse) {
  auto p = [](const std::string& s) { return Json(Call("uuid.parse", {S(s)})); };
  EXPECT_EQ(p("00000000-0000-4000-8000-000000000000"), R"({"variant":"RFC4122","version":4})");
  EXPECT_EQ(p("{00000000-0000-4000-8000-000000000000}"), R"({"variant":"RFC4122","version":4})");
  EXPECT_EQ(p("6bea8ef2d3d33cd184e09bab06a52ece"), R"({"variant":"RFC4122","version":3})");
  std::string v2 = R"({"clocksequence":12800,"domain":"Person","id":1000,)"
                   R"("macvariables":"local:unicast","nodeid":"32-50-96-b3-9f-47",)"
                   R"("time":1693566990121469600,"variant":"RFC4122","version":2})";
  EXPECT_EQ(p("000003e8-48b9-21ee-b200-325096b39f47"), v2);
  EXPECT_EQ(p("URN:UUID:000003E8-48B9-21EE-B200-325096B39F47"), v2);
  EXPECT_EQ(Err(Call("uuid.parse", {S("00000000-0000-4000-8000-00000000000")}), kUndefined),
            "undefined");
  EXPECT_EQ(Err(Call("uuid.parse", {S("00000000x0000-4000-8000-000000000000")}), kUndefined),
            "undefined");
  EXPECT_EQ(Err(Call("uuid.parse", {S("g0000000-0000-4000-8000-000000000000")}), kUndefined),
            "undefined");
  EXPECT_EQ(Err(Call("uuid.parse", {Value::Int(123)}), kTypeError),
            "uuid.parse: operand 1 must be string but got number");
}

}  // namespace
}  // namespace mcpgw::rego
