function main( this is not lua
