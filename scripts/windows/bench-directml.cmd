@echo off
rem Measures `nst bench` on DirectML and on the CPU and writes the results as JSON, for a Windows machine with a
rem DirectX 12 GPU. Run it from the unpacked nst folder (double-click, or from a console):
rem
rem   bench-directml.cmd [OUT_DIR] [SIZES]
rem
rem   OUT_DIR  where the results go (default: bench-results beside this file)
rem   SIZES    image sides, quoted and space-separated (default: "256 512 1024")
rem
rem Writes directml.json and cpu.json (one object per size: seconds per evaluation, the device's measured peak,
rem peak memory), directml.txt and cpu.txt (what nst printed, errors included) and system.txt (Windows and GPU).
rem The DirectML run uses directml\onnxruntime.dll (the onnxruntime-directml build, with DirectML.dll beside it);
rem the CPU run uses onnxruntime.dll beside nst.exe. NST_DEVICE=N picks the GPU by index (DXGI's order).
setlocal EnableExtensions
set "here=%~dp0"
set "out=%~1"
if "%out%"=="" set "out=%here%bench-results"
set "sizes=%~2"
if "%sizes%"=="" set "sizes=256 512 1024"
set "size_args="
rem The loop variable is %%w: a letter of "size_args" would be taken for it.
for %%w in (%sizes%) do call set "size_args=%%size_args%% --size %%w"
set "device_args="
if not "%NST_DEVICE%"=="" set "device_args=--device %NST_DEVICE%"
if not exist "%out%\" mkdir "%out%"
if not exist "%out%\" goto :failed

ver > "%out%\system.txt"
wmic path win32_VideoController get Name,DriverVersion,AdapterRAM >> "%out%\system.txt" 2>nul

echo nst bench on DirectML (sizes %sizes%)...
"%here%nst.exe" bench --json --provider directml %device_args% --ort "%here%directml\onnxruntime.dll"%size_args% > "%out%\directml.json" 2> "%out%\directml.txt"
set "directml_status=%errorlevel%"
if not "%directml_status%"=="0" (
  echo DirectML run failed; see "%out%\directml.txt":
  type "%out%\directml.txt"
)
echo nst bench on the CPU (sizes %sizes%)...
"%here%nst.exe" bench --json --provider cpu --ort "%here%onnxruntime.dll"%size_args% > "%out%\cpu.json" 2> "%out%\cpu.txt"
set "cpu_status=%errorlevel%"
if not "%cpu_status%"=="0" (
  echo CPU run failed; see "%out%\cpu.txt":
  type "%out%\cpu.txt"
)
echo Results in %out%
if not "%directml_status%"=="0" exit /b 1
if not "%cpu_status%"=="0" exit /b 1
exit /b 0

:failed
echo cannot create the folder %out%
exit /b 1
