/* A stand-in for Windows' bcryptprimitives.dll, for running nst's Windows build under Wine 8.0 only (Debian 12's
 * Wine). Rust's standard library takes its random numbers from ProcessPrng in that DLL, which Wine 8.0 does not
 * export; Windows 10 and later have it. This forwards to RtlGenRandom (SystemFunction036 in advapi32).
 * Never shipped: scripts/wine-env builds it into the Wine prefix. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
    while (length > 0) {
        ULONG chunk = length > 0x40000000 ? 0x40000000 : (ULONG)length;
        if (!SystemFunction036(data, chunk))
            return FALSE;
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
