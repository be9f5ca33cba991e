@echo off
rem Installs the Neural Style filter for GIMP 3 (Filters > Artistic > Neural Style) for this Windows user, into
rem %APPDATA%\GIMP\3.0\plug-ins\neural-style. Start GIMP 3 once before, so that it has made its profile, then run
rem this from the unpacked nst folder. Options as for `nst.exe gimp install --help`: --pretrained fetches the
rem pretrained VGG19 once; --dest DIR names another plug-ins folder.
"%~dp0nst.exe" gimp install %*
