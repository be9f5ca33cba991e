@echo off
rem Installs the Neural Style filter for Krita (Filter > Neural Style) for this Windows user, into
rem %APPDATA%\krita\pykrita, and switches it on in Krita's settings. Start Krita once before, so that it has made
rem its profile, then run this from the unpacked nst folder. Options as for `nst.exe krita install --help`.
"%~dp0nst.exe" krita install %*
