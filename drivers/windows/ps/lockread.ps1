param($d)
#include lock
$lock = $null
if ($live) { $lock = $holder }
ConvertTo-Json -InputObject @{ lock = $lock } -Depth 5 -Compress
