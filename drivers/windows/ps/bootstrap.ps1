$ErrorActionPreference = 'Stop'
$in = [Console]::In.ReadToEnd() | ConvertFrom-Json
& ([scriptblock]::Create($in.program)) $in.data
